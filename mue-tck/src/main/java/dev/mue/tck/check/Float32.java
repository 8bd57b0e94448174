package dev.mue.tck.check;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Float32 comparisons whose bands hold on every CPU the JDK and the natives support (x86-64 with
 * AVX2 only, with AVX-512, aarch64), for the backends' own tests.
 *
 * <p>Why a band at all: vectorised float32 libraries pick their kernels by CPU feature at run
 * time. libtorch's {@code erf} and {@code exp} come from SLEEF builds for AVX2 or AVX-512 (within
 * 1 ulp, but not the same bits), oneDNN and MKL choose GEMM micro-kernels and K-blocking by ISA,
 * and the JDK's Vector API uses the widest species the CPU has, so a dot product is summed in a
 * different order on each machine. Bit-exact expectations of a library result, or bands of one or
 * two float32 steps, therefore fail on some CPU without any defect. Each band below is stated with
 * its reason and sits far below what a real defect moves (the tanh form of GELU is 1.5e-4 off at
 * {@code x = 1}, about 2,500 steps; a leaked padding row or a wrong mask moves outputs by 1e-2 or
 * more).
 *
 * <p>Bit-exact comparisons stay right where both sides run the same kernels on the same shapes in
 * one process (a TF batch whose examples are separate chains of identical ops, a run repeated
 * with the same inputs): that is determinism, which no CPU changes.
 */
public final class Float32 {
    /**
     * Float32 steps allowed between an elementwise library function (GELU, softmax's exp) and its
     * exact value. SLEEF's vectorised {@code erf}/{@code exp} are within 1 ulp, the GELU formula
     * {@code 0.5 x (1 + erf(x / sqrt 2))} rounds three more times, and {@code 1 + erf} cancels up to
     * 3x for {@code x >= -1}; 16 steps (about 1e-6 relative) covers that with room, and is still
     * 150 times tighter than the tanh approximation's error.
     */
    public static final int ELEMENTWISE_STEPS = 16;

    /**
     * Relative vector error ({@link Tolerances#vectorError}) allowed between two runs of the same
     * library on different batch shapes or execution modes (batch against singles, graph against
     * eager). GEMM blocking and the thread split depend on the shape and the ISA, so sums are
     * reordered: each dot product of length K may move by about {@code sqrt(K)} unit roundoffs
     * (5.96e-8), compounded over a few layers with LayerNorm's rescaling. 1e-5 is about 170 unit
     * roundoffs: ten times what such reorderings give on these test models, ten times below the
     * TCK's band against the float64 reference ({@link Tolerances#VECTOR}).
     */
    public static final double SAME_LIBRARY_VECTOR = 1e-5;

    /**
     * Absolute gate-similarity difference allowed between two runs of the same library. A cosine
     * moves by at most about the relative error of the vectors it compares, so this equals
     * {@link #SAME_LIBRARY_VECTOR}.
     */
    public static final double SAME_LIBRARY_SIMILARITY = SAME_LIBRARY_VECTOR;

    private Float32() {
    }

    /**
     * The number of float32 steps between {@code expected} rounded to float32 and {@code actual}:
     * 0 when they are the same float, 1 for neighbours, counted across zero; {@link Long#MAX_VALUE}
     * when either is NaN.
     */
    public static long steps(double expected, float actual) {
        float e = (float) expected;
        if (Float.isNaN(e) || Float.isNaN(actual)) {
            return Long.MAX_VALUE;
        }
        return Math.abs(ordinal(e) - ordinal(actual));
    }

    /** Maps floats to integers that increase with the value, so neighbours differ by one. */
    private static long ordinal(float f) {
        int bits = Float.floatToIntBits(f == 0f ? 0f : f); // -0 and +0 are one value
        return bits >= 0 ? bits : (long) Integer.MIN_VALUE - bits;
    }

    /** Fails unless {@code actual} is within {@code maxSteps} float32 steps of {@code expected}. */
    public static void assertWithinSteps(double expected, float actual, int maxSteps, String what) {
        long s = steps(expected, actual);
        if (s > maxSteps) {
            throw new AssertionError(String.format(java.util.Locale.ROOT,
                    "%s: expected %.10g, got %.10g, %d float32 steps apart (allowed %d)",
                    what, expected, actual, s, maxSteps));
        }
    }

    /**
     * Fails unless {@code actual} is within {@code relative} of {@code expected} in the TCK's vector
     * measure ({@code max |a - b| / rms(expected)}, {@link Tolerances#vectorError}).
     */
    public static void assertVectorClose(float[] expected, float[] actual, double relative, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double[] e = new double[expected.length];
        double[] a = new double[actual.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = expected[i];
            a[i] = actual[i];
        }
        double err = Tolerances.vectorError(e, a, e);
        if (!(err <= relative)) {
            throw new AssertionError(String.format(java.util.Locale.ROOT,
                    "%s: relative error %.3g, allowed %.3g", what, err, relative));
        }
    }
}
