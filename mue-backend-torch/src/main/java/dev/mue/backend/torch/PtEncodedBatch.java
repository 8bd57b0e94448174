package dev.mue.backend.torch;

import dev.mue.backend.torch.forward.PtOps;
import dev.mue.backend.torch.forward.PtParams;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.mue.api.EncoderExit;
import dev.mue.api.spi.EncodedBatch;
import java.util.List;

/**
 * The PyTorch backend's encoder output: {@code [B, N, d]} on the device, [image ; text] after the
 * final encoder LayerNorm, each row padded after its own tokens, with its additive padding mask;
 * plus, per decoder layer, the cross-attention keys and values, computed the first time a token
 * reaches that layer and then shared by every row. Owns its manager; {@link #close()} frees it.
 */
final class PtEncodedBatch implements EncodedBatch {
    final PtExecutable exec;
    private final NDManager manager;
    final NDArray output;
    /** {@code [B, 1, 1, N]}, 0 or -inf; null when no row is padded. */
    final NDArray mask;
    final int[] tokens;
    private final List<List<EncoderExit>> exits;
    private final NDArray[] crossK;
    private final NDArray[] crossV;
    private volatile boolean closed;

    PtEncodedBatch(PtExecutable exec, NDManager manager, NDArray output, NDArray mask, int[] tokens,
            List<List<EncoderExit>> exits) {
        this.exec = exec;
        this.manager = manager;
        this.output = output;
        this.mask = mask;
        this.tokens = tokens;
        this.exits = List.copyOf(exits);
        int layers = exec.p.config.decoderLayers();
        this.crossK = new NDArray[layers];
        this.crossV = new NDArray[layers];
    }

    @Override
    public int size() {
        return tokens.length;
    }

    @Override
    public List<EncoderExit> exits(int i) {
        return exits.get(i);
    }

    @Override
    public int outputTokens(int i) {
        return tokens[i];
    }

    /** Padded width N of the encoder output. */
    long width() {
        return output.getShape().get(1);
    }

    @Override
    public float[] output(int i) {
        check();
        try (NDManager t = manager.newSubManager()) {
            return output.get(t, new NDIndex("{}, :{}", i, tokens[i])).toFloatArray();
        }
    }

    /**
     * Cross-attention keys and values of {@code layer} for every example, {@code [B, N, d]} each,
     * computed on first use and kept until this batch is closed.
     */
    synchronized NDArray[] cross(int layer) {
        check();
        if (crossK[layer] == null) {
            PtParams.Attn a = exec.p.decoder[layer].cross();
            crossK[layer] = PtOps.linear(output, a.k());
            crossV[layer] = PtOps.linear(output, a.v());
        }
        return new NDArray[] {crossK[layer], crossV[layer]};
    }

    /**
     * Keys, values and padding mask of {@code layer} for rows of the given examples, in {@code m}:
     * {@code [1, N, d]} (broadcast) when every row belongs to one example, else one per row.
     */
    NDArray[] crossFor(NDManager m, int layer, int[] exampleOfRow) {
        NDArray[] kv = cross(layer);
        boolean one = true;
        for (int e : exampleOfRow) {
            one &= e == exampleOfRow[0];
        }
        NDIndex idx = one ? new NDIndex("{}:{}", exampleOfRow[0], exampleOfRow[0] + 1)
                : new NDIndex("{}", m.create(PtHost.longs(exampleOfRow)));
        return new NDArray[] {kv[0].get(m, idx), kv[1].get(m, idx), mask == null ? null : mask.get(m, idx)};
    }

    void check() {
        if (closed || !manager.isOpen()) {
            throw new IllegalStateException("encoded batch is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
        manager.close();
    }
}
