package dev.mue.backend.tf;

import dev.mue.api.EncoderExit;
import dev.mue.api.spi.EncodedBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.Tensor;

/**
 * The graph executable's encoder output: the {@link Result} of the encoder run, holding per example
 * its output, kept in TensorFlow's memory to feed the decoder, and, once a decoding run asks, the
 * cross-attention keys and values of every decoder layer of that run's examples, stacked for its
 * steps (one set per distinct set of examples). Closing it closes every tensor.
 */
final class TfEncodedBatch implements EncodedBatch {
    private final TfExecutable owner;
    private final Result result;
    private final int perExample;
    private final List<List<EncoderExit>> exits;
    private final int[] tokens;
    /** Per set of examples (ascending), the run that made their stacked cross keys and values. */
    private final Map<List<Integer>, Result> cross = new HashMap<>();
    private boolean closed;

    /** {@code result} holds {@code perExample} tensors per example: the output, then the cross keys and values. */
    TfEncodedBatch(TfExecutable owner, Result result, int perExample, List<List<EncoderExit>> exits, int[] tokens) {
        this.owner = owner;
        this.result = result;
        this.perExample = perExample;
        this.exits = List.copyOf(exits);
        this.tokens = tokens;
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
     * The cross keys (layers 1..L, {@code [E, M, d]}), values (layers 1..L) and key mask
     * ({@code [E, M]}) of {@code examples} (distinct, ascending), stacked in that order (see
     * {@link TfExecutable#crossOf}): made in one run the first time a decoding run asks for this
     * set, then kept until the batch closes; none for no example (a decoder of no rows).
     */
    synchronized List<Tensor> crossStack(int[] examples) {
        check();
        if (examples.length == 0) {
            return List.of();
        }
        List<Integer> key = Arrays.stream(examples).boxed().toList();
        Result r = cross.get(key);
        if (r == null) {
            List<Tensor> outputs = new ArrayList<>();
            for (int e : examples) {
                outputs.add(result.get(e * perExample));
            }
            r = owner.crossOf(outputs);
            cross.put(key, r);
        }
        List<Tensor> out = new ArrayList<>();
        for (int k = 0; k < r.size(); k++) {
            out.add(r.get(k));
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
        for (Result r : cross.values()) {
            r.close();
        }
        result.close();
    }
}
