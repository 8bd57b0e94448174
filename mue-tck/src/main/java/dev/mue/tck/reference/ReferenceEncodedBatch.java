package dev.mue.tck.reference;

import dev.mue.api.EncoderExit;
import dev.mue.api.spi.EncodedBatch;
import java.util.List;

/** The reference's encoder output for a batch: each example's float64 result. */
public final class ReferenceEncodedBatch implements EncodedBatch {
    private final List<ReferenceExecutor.Encoded> examples;

    ReferenceEncodedBatch(List<ReferenceExecutor.Encoded> examples) {
        this.examples = List.copyOf(examples);
    }

    @Override
    public int size() {
        return examples.size();
    }

    /** Example {@code i}'s full result. */
    public ReferenceExecutor.Encoded encoded(int i) {
        return examples.get(i);
    }

    @Override
    public List<EncoderExit> exits(int i) {
        return examples.get(i).exits();
    }

    @Override
    public int outputTokens(int i) {
        return examples.get(i).output().length;
    }

    @Override
    public float[] output(int i) {
        return ReferenceMath.toFloat(outputExact(i));
    }

    /** Example {@code i}'s encoder output in float64, row-major {@code [tokens, d]}. */
    public double[] outputExact(int i) {
        double[][] o = examples.get(i).output();
        int d = o[0].length;
        double[] flat = new double[o.length * d];
        for (int t = 0; t < o.length; t++) {
            System.arraycopy(o[t], 0, flat, t * d, d);
        }
        return flat;
    }

    @Override
    public void close() {
        // heap only
    }
}
