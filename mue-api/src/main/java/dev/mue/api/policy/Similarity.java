package dev.mue.api.policy;

/**
 * The exit gates' similarity (design §4) as every backend computes it on the host: the cosine of
 * two vectors, accumulated in double in index order.
 */
public final class Similarity {
    private Similarity() {
    }

    /**
     * Cosine similarity of {@code len} floats of {@code a} and {@code b} from the given offsets;
     * 1 when both are zero, 0 when exactly one is.
     */
    public static double cosine(float[] a, int aOff, float[] b, int bOff, int len) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < len; i++) {
            double x = a[aOff + i];
            double y = b[bOff + i];
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        if (aa == 0 && bb == 0) {
            return 1;
        }
        if (aa == 0 || bb == 0) {
            return 0;
        }
        return ab / Math.sqrt(aa * bb);
    }
}
