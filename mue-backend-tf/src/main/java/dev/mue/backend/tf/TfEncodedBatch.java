package dev.mue.backend.tf;

import dev.mue.api.EncoderExit;
import dev.mue.api.spi.EncodedBatch;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Result;
import org.tensorflow.Tensor;

/**
 * The graph executable's encoder output: the {@link Result} of the encoder run, holding per example
 * its output, kept in TensorFlow's memory to feed the decoder, and, once a decoding run asks, the
 * example's cross-attention keys and values of every decoder layer. Closing it closes every tensor.
 */
final class TfEncodedBatch implements EncodedBatch {
    private final TfExecutable owner;
    private final Result result;
    private final int perExample;
    private final List<List<EncoderExit>> exits;
    private final int[] tokens;
    /** Per example, the run that made its cross keys and values, and where they start in it. */
    private final Result[] cross;
    private final int[] crossAt;
    private final List<Result> owned = new ArrayList<>();
    private boolean closed;

    /** {@code result} holds {@code perExample} tensors per example: the output, then the cross keys and values. */
    TfEncodedBatch(TfExecutable owner, Result result, int perExample, List<List<EncoderExit>> exits, int[] tokens) {
        this.owner = owner;
        this.result = result;
        this.perExample = perExample;
        this.exits = List.copyOf(exits);
        this.tokens = tokens;
        this.cross = new Result[tokens.length];
        this.crossAt = new int[tokens.length];
    }

    TfExecutable owner() {
        return owner;
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
    public synchronized float[] output(int i) {
        check();
        return TfTensors.floats(result.get(i * perExample));
    }

    /** Example {@code e}'s encoder output as the tensor the encoder run returned. */
    synchronized Tensor outputTensor(int e) {
        check();
        return result.get(e * perExample);
    }

    /**
     * Makes the cross keys and values of the {@code examples} that lack them, in one run: a decoding
     * run starts with this, so that its steps stay one run each.
     */
    synchronized void prepareCross(int[] examples) {
        check();
        List<Integer> need = new ArrayList<>();
        for (int e : examples) {
            if (cross[e] == null && !need.contains(e)) {
                need.add(e);
            }
        }
        if (need.isEmpty()) {
            return;
        }
        List<Tensor> outputs = new ArrayList<>();
        for (int e : need) {
            outputs.add(result.get(e * perExample));
        }
        Result r = owner.crossOf(outputs);
        int per = r.size() / need.size();
        // One result holds every example's tensors; the batch closes it with the others it owns.
        for (int i = 0; i < need.size(); i++) {
            cross[need.get(i)] = r;
            crossAt[need.get(i)] = i * per;
        }
        owned.add(r);
    }

    /** Example {@code e}'s cross keys (layers 1..L) then values (layers 1..L); {@link #prepareCross} made them. */
    synchronized List<Tensor> cross(int e) {
        check();
        if (cross[e] == null) {
            prepareCross(new int[] {e});
        }
        int layers = owner.plan().config().decoderLayers();
        List<Tensor> out = new ArrayList<>();
        for (int k = 0; k < 2 * layers; k++) {
            out.add(cross[e].get(crossAt[e] + k));
        }
        return out;
    }

    synchronized void check() {
        if (closed) {
            throw new IllegalStateException("encoded batch is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Result r : owned) {
            r.close();
        }
        result.close();
    }
}
