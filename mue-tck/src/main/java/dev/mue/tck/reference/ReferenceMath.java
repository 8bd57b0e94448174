package dev.mue.tck.reference;

/**
 * The scalar and vector primitives of the reference, in float64 with {@link StrictMath} so that
 * the reference gives bit-identical results on every JVM and platform (the golden files rely on
 * it).
 *
 * <p>Everything is a plain loop: no blocking, no vectorisation, no reassociation, so that what the
 * code does is what it says.
 */
public final class ReferenceMath {
    private static final double SQRT_PI = StrictMath.sqrt(StrictMath.PI);
    private static final double SQRT_2 = StrictMath.sqrt(2.0);

    private ReferenceMath() {
    }

    /**
     * The error function, accurate to a few ulps.
     *
     * <p>Uses the everywhere-convergent series {@code erf(z) = 2/sqrt(pi) exp(-z^2)
     * sum_n 2^n z^(2n+1) / (1*3*...*(2n+1))}, whose terms are all of one sign (no cancellation);
     * beyond |z| = 6, erf is +-1 to double precision (erfc(6) is about 2e-17).
     */
    public static double erf(double z) {
        if (Double.isNaN(z)) {
            return z;
        }
        double a = Math.abs(z);
        if (a > 6) {
            return Math.signum(z);
        }
        double term = a;
        double sum = a;
        double z2 = 2 * a * a;
        for (int n = 0; n < 500; n++) {
            term *= z2 / (2 * n + 3);
            sum += term;
            if (term < 1e-17 * sum) {
                break;
            }
        }
        double r = 2 / SQRT_PI * StrictMath.exp(-a * a) * sum;
        r = Math.min(r, 1.0);
        return z < 0 ? -r : r;
    }

    /** GELU, exact (erf) form as in fairseq's {@code gelu}: {@code x/2 * (1 + erf(x / sqrt 2))}. */
    public static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / SQRT_2));
    }

    /** The tanh approximation of GELU; NOT what the model uses (kept to show the suite can tell them apart). */
    public static double geluTanh(double x) {
        return 0.5 * x * (1 + StrictMath.tanh(StrictMath.sqrt(2 / StrictMath.PI) * (x + 0.044715 * x * x * x)));
    }

    /**
     * LayerNorm of one vector: {@code (x - mean) / sqrt(var + eps) * weight + bias}, biased variance.
     */
    public static double[] layerNorm(double[] x, double[] weight, double[] bias, double eps) {
        int n = x.length;
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= n;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        var /= n;
        double inv = 1 / StrictMath.sqrt(var + eps);
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            y[i] = (x[i] - mean) * inv * weight[i] + bias[i];
        }
        return y;
    }

    /** {@code W x + b} with {@code W} row-major {@code [out, in]}; {@code b} may be null. */
    public static double[] linear(double[] x, double[] w, double[] b, int out) {
        int in = x.length;
        if (w.length != in * out) {
            throw new IllegalArgumentException("linear: weight has " + w.length + " values, expected " + out + "x" + in);
        }
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b == null ? 0 : b[o];
            for (int i = 0; i < in; i++) {
                s += w[o * in + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    /** Softmax of {@code x} in place, with the maximum subtracted first. */
    public static void softmaxInPlace(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            x[i] = StrictMath.exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < x.length; i++) {
            x[i] /= sum;
        }
    }

    /**
     * Cosine similarity between the two sequences of vectors, each flattened into one long vector
     * (design §4: one scalar over all of an example's real tokens, not a mean of per-token cosines).
     */
    public static double cosine(double[][] a, double[][] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("cosine of " + a.length + " and " + b.length + " vectors");
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int t = 0; t < a.length; t++) {
            for (int i = 0; i < a[t].length; i++) {
                dot += a[t][i] * b[t][i];
                na += a[t][i] * a[t][i];
                nb += b[t][i] * b[t][i];
            }
        }
        return dot / (StrictMath.sqrt(na) * StrictMath.sqrt(nb));
    }

    /**
     * OFA's 1-D relative position bucket ({@code make_token_bucket_position}) of the offset
     * {@code r = query - key}, as a row index into a {@code [2 * bucketSize - 1, H]} table.
     *
     * <p>With {@code mid = bucketSize / 2}: offsets with {@code |r| <= mid} keep their own bucket;
     * farther ones share logarithmic buckets {@code sign(r) * (ceil(ln(|r|/mid) /
     * ln((maxPositions-1)/mid) * (mid-1)) + mid)}; the row is the bucket plus {@code bucketSize - 1}.
     */
    public static int tokenBucketRow(int r, int bucketSize, int maxPositions) {
        int mid = bucketSize / 2;
        int a = Math.abs(r);
        int bucket;
        if (a <= mid) {
            bucket = r;
        } else {
            double logPos = StrictMath.ceil(StrictMath.log((double) a / mid)
                    / StrictMath.log((double) (maxPositions - 1) / mid) * (mid - 1)) + mid;
            bucket = (r < 0 ? -1 : 1) * (int) logPos;
        }
        return bucket + bucketSize - 1;
    }

    /**
     * OFA's 2-D image relative position row for grid cells {@code (r1, c1)} (query) and
     * {@code (r2, c2)} (key), into a {@code [(2B-1)^2 + 3, H]} table, {@code B} the image bucket size.
     */
    public static int imageBucketRow(int r1, int c1, int r2, int c2, int imageBucketSize) {
        int side = 2 * imageBucketSize - 1;
        return (r1 - r2 + imageBucketSize - 1) * side + (c1 - c2 + imageBucketSize - 1);
    }

    /** Converts to float64. */
    public static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    /** Converts to float32 (round to nearest). */
    public static float[] toFloat(double[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (float) x[i];
        }
        return y;
    }
}
