package dev.mue.backend.tf;

import dev.mue.api.EncoderExit;
import dev.mue.api.spi.EncodedBatch;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Result;
import org.tensorflow.Tensor;

/**
 * The graph executable's encoder output: the {@link Result} of the encoder run, holding per example
 * its output and its cross-attention keys and values of every decoder layer, kept in TensorFlow's
 * memory to feed the decoder. Closing it closes every tensor.
 */
final class TfEncodedBatch implements EncodedBatch {
    private final TfExecutable owner;
    private final Result result;
    private final int perExample;
    private final List<List<EncoderExit>> exits;
    private final int[] tokens;
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

    /** Example {@code e}'s cross keys (layers 1..L) then values (layers 1..L). */
    synchronized List<Tensor> cross(int e) {
        check();
        List<Tensor> out = new ArrayList<>();
        for (int k = 1; k < perExample; k++) {
            out.add(result.get(e * perExample + k));
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
        result.close();
    }
}
