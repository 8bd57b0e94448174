package dev.mue.backend.java;

import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.EncoderExit;
import dev.mue.api.spi.EncodedBatch;
import java.util.List;

/**
 * The Java backend's encoder output: per example, [image ; text] after the final encoder
 * LayerNorm, plus the decoder cross-attention keys and values, computed per layer the first time a
 * token reaches that layer and then shared by every row of the example.
 */
final class JvEncodedBatch implements EncodedBatch {
    final float[][] output;
    final int[] tokens;
    final int[] textTokens;
    private final List<List<EncoderExit>> exits;
    private final float[][][] crossK;
    private final float[][][] crossV;
    private volatile boolean closed;

    JvEncodedBatch(float[][] output, int[] tokens, int[] textTokens, List<List<EncoderExit>> exits, int decoderLayers) {
        this.output = output;
        this.tokens = tokens;
        this.textTokens = textTokens;
        this.exits = exits;
        this.crossK = new float[output.length][decoderLayers][];
        this.crossV = new float[output.length][decoderLayers][];
    }

    @Override
    public int size() {
        return output.length;
    }

    @Override
    public List<EncoderExit> exits(int i) {
        return exits.get(i);
    }

    @Override
    public int outputTokens(int i) {
        return tokens[i];
    }

    @Override
    public float[] output(int i) {
        check();
        return output[i].clone();
    }

    /** Cross-attention K of {@code example} at {@code layer}, computing it (with V) on first use. */
    synchronized float[] crossK(int example, int layer, JvOps ops, ResolvedWeights.Attention attn) {
        check();
        if (crossK[example][layer] == null) {
            crossK[example][layer] = ops.linear(attn.k(), output[example], tokens[example]);
            crossV[example][layer] = ops.linear(attn.v(), output[example], tokens[example]);
        }
        return crossK[example][layer];
    }

    /** Cross-attention V; valid after {@link #crossK} for the same example and layer. */
    synchronized float[] crossV(int example, int layer) {
        return crossV[example][layer];
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("encoded batch is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
