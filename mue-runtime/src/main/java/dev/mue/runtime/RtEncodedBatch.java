package dev.mue.runtime;

import dev.mue.api.EncoderExit;
import dev.mue.api.layer.LayerOps;
import dev.mue.api.layer.Workspace;
import dev.mue.api.spi.EncodedBatch;
import java.util.List;

/**
 * The runtime's encoder output: the backend's memory (living in this batch's workspace), the
 * exits of every example's streams, and which examples have the cross-attention keys and values of
 * which decoder layer: they are computed the first time a token of the example reaches the layer
 * (design §4), then kept.
 *
 * @param <M> the backend's memory type
 */
final class RtEncodedBatch<M> implements EncodedBatch {
    final PlanExecutable<?, M, ?> owner;
    final M memory;
    private final Workspace workspace;
    private final List<List<EncoderExit>> exits;
    private final int[] tokens;
    private final boolean[][] crossReady;
    private volatile boolean closed;

    RtEncodedBatch(PlanExecutable<?, M, ?> owner, Workspace workspace, M memory, List<List<EncoderExit>> exits,
            int[] tokens, int decoderLayers) {
        this.owner = owner;
        this.workspace = workspace;
        this.memory = memory;
        this.exits = List.copyOf(exits);
        this.tokens = tokens;
        this.crossReady = new boolean[tokens.length][decoderLayers + 1];
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

    @Override
    public float[] output(int i) {
        check();
        return owner.ops().memoryRows(memory, i);
    }

    /** Makes sure the examples have the cross-attention keys and values of decoder {@code layer}. */
    synchronized void prepareCross(LayerOps<?, M, ?> ops, int layer, int[] examples) {
        check();
        int n = 0;
        int[] need = new int[examples.length];
        for (int e : examples) {
            if (!crossReady[e][layer]) {
                crossReady[e][layer] = true;
                need[n++] = e;
            }
        }
        if (n > 0) {
            ops.prepareCross(memory, layer, java.util.Arrays.copyOf(need, n));
        }
    }

    void check() {
        if (closed) {
            throw new IllegalStateException("encoded batch is closed");
        }
        owner.checkOpen();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            workspace.close();
        }
    }
}
