package dev.mue.backend.java;

import dev.mue.backend.java.kernels.JvKeys;

/**
 * The Java backend's encoder memory: per example the encoder output {@code [tokens, d]} after the
 * final LayerNorm, and per decoder layer that needs them, the cross-attention values {@code
 * [tokens, d]} and each head's keys, prepared once for the kernels (every decoding step attends to
 * them again); a scoring pass that attends through the encoder output uses the output's own rows
 * as keys instead ({@link #outputKeys}). Each is made on first use, under the example's lock.
 */
final class JvMemory {
    final float[][] output;
    final int[] tokens;
    /** {@code [example][layer]}: the values {@code [tokens, d]}, 1-based layers. */
    final float[][][] crossV;
    /** {@code [example][layer][head]}. */
    final JvKeys[][][] crossKeys;
    /** {@code [example]}: the encoder output's rows as keys of {@code d} dimensions. */
    final JvKeys[] outputKeys;

    JvMemory(float[][] output, int[] tokens, int decoderLayers) {
        this.output = output;
        this.tokens = tokens;
        this.crossV = new float[output.length][decoderLayers + 1][];
        this.crossKeys = new JvKeys[output.length][decoderLayers + 1][];
        this.outputKeys = new JvKeys[output.length];
    }
}
