package dev.mue.backend.java;

/**
 * The Java backend's encoder memory: per example the encoder output {@code [tokens, d]} after the
 * final LayerNorm, and per decoder layer the cross-attention keys and values the runtime asked for.
 */
final class JvMemory {
    final float[][] output;
    final int[] tokens;
    final float[][][] crossK;
    final float[][][] crossV;

    JvMemory(float[][] output, int[] tokens, int decoderLayers) {
        this.output = output;
        this.tokens = tokens;
        this.crossK = new float[output.length][decoderLayers + 1][];
        this.crossV = new float[output.length][decoderLayers + 1][];
    }
}
