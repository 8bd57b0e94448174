package dev.mue.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/**
 * Host-side helpers of the PyTorch backend: the exit gates' cosine similarity, computed on the host
 * in double exactly as the Java backend's control kernel computes it, and row selection for batch
 * compaction.
 */
final class PtHost {
    private PtHost() {
    }

    /** The gate similarity, {@link dev.mue.api.policy.Similarity#cosine}. */
    static double cosine(float[] a, int aOff, float[] b, int bOff, int len) {
        return dev.mue.api.policy.Similarity.cosine(a, aOff, b, bOff, len);
    }

    /**
     * Cosine similarity over several segments of the same two arrays, taken in order as one vector
     * (segment {@code s} is {@code [off[s], off[s] + len[s])} in both): the same sums, in the same
     * order, as {@link #cosine(float[], int, float[], int, int)} over the segments laid end to end.
     */
    static double cosine(float[] a, float[] b, int[] off, int[] len) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int s = 0; s < off.length; s++) {
            for (int i = off[s], end = off[s] + len[s]; i < end; i++) {
                double x = a[i];
                double y = b[i];
                ab += x * y;
                aa += x * x;
                bb += y * y;
            }
        }
        if (aa == 0 && bb == 0) {
            return 1;
        }
        if (aa == 0 || bb == 0) {
            return 0;
        }
        return ab / Math.sqrt(aa * bb);
    }

    /** Rows {@code idx} of {@code x} along the first axis, as a new tensor in {@code m}. */
    static NDArray rows(NDManager m, NDArray x, int[] idx) {
        long[] l = new long[idx.length];
        for (int i = 0; i < idx.length; i++) {
            l[i] = idx[i];
        }
        return x.get(m, new NDIndex("{}", m.create(l)));
    }

    /** Rows {@code idx} of a host array of rows of {@code width} floats. */
    static float[] rows(float[] x, int width, int[] idx) {
        float[] out = new float[idx.length * width];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(x, idx[i] * width, out, i * width, width);
        }
        return out;
    }

    /** {@code idx} as longs. */
    static long[] longs(int[] idx) {
        long[] l = new long[idx.length];
        for (int i = 0; i < idx.length; i++) {
            l[i] = idx[i];
        }
        return l;
    }
}
