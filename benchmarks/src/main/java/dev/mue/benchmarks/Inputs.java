package dev.mue.benchmarks;

import java.util.SplittableRandom;

/** Seeded random inputs for benchmarks, so that every run and every kernel sees the same data. */
public final class Inputs {
    private Inputs() {
    }

    /** {@code n} floats uniform in {@code [-1, 1)}, the same for the same seed. */
    public static float[] uniform(long seed, int n) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        return a;
    }

    /**
     * Parses a shape such as {@code "64x128x512"} into its dimensions.
     *
     * @throws IllegalArgumentException when a part is not a positive integer
     */
    public static int[] shape(String spec, int dims) {
        String[] parts = spec.split("x");
        if (parts.length != dims) {
            throw new IllegalArgumentException("expected " + dims + " dimensions in " + spec);
        }
        int[] out = new int[dims];
        for (int i = 0; i < dims; i++) {
            out[i] = Integer.parseInt(parts[i]);
            if (out[i] <= 0) {
                throw new IllegalArgumentException("non-positive dimension in " + spec);
            }
        }
        return out;
    }
}
