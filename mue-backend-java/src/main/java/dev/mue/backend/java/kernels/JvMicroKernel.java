package dev.mue.backend.java.kernels;

import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked micro-kernels that every matrix product of {@link JvVectorKernels} runs on:
 * outer products that broadcast one element of {@code a} and multiply-add it into accumulators
 * holding a tile of {@link #ROWS} rows by {@link #width()} columns of {@code b}, for {@code i} in
 * order. Each output element is therefore {@code acc = fma(a[r, i], b[i, c], acc)} for
 * {@code i = k0 .. k1-1}, starting from zero or from {@code y} ({@code accumulate}), whatever tile,
 * row position or variant computes it: the fixed sequence that makes a batch give bitwise the
 * results of single calls, with no horizontal reduction at all.
 *
 * <p>{@code b} is a panel: {@code b[b0 + i * ldb + c]} for {@code c < width()}, which is how
 * packed weights ({@link JvWeights}) and transposed attention keys are laid out. {@code a} is either
 * row-major ({@code a[a0 + r * lda + i]}) or at a base of its own per row
 * ({@code a[base[r] + offset + i]}: one contiguous run of a convolution's receptive field, read in
 * place). A tile of fewer than {@link #ROWS} valid rows repeats its last row: the repeats compute
 * the same values and store them to the same place, so they cost time but never change a result.
 * One implementation per vector shape, each with its species in a static final field, so that the
 * JIT compiles the loops to SIMD with every vector in a register.
 */
abstract class JvMicroKernel {
    /** Rows of a tile: each loaded panel vector is used this many times. */
    static final int ROWS = 6;

    /** Columns of a tile: the panel width. */
    abstract int width();

    /** Lanes of the species. */
    abstract int lanes();

    /** Tile of up to {@link #ROWS} rows of a row-major {@code a}. */
    abstract void tile(float[] a, int a0, int lda, int rows, float[] b, int b0, int ldb, int k0, int k1, float[] y,
            int y0, int ldy, boolean accumulate);

    /** One row, element {@code i} at {@code a[a0 + i]}: half the throughput of a tile, for one or two rows. */
    abstract void row(float[] a, int a0, float[] b, int b0, int ldb, int k0, int k1, float[] y, int y0,
            boolean accumulate);

    /**
     * Tile of up to {@link #ROWS} rows whose element {@code i} is {@code a[base[r] + offset + i]}.
     * {@code base} holds {@link #ROWS} starts; where fewer rows are valid, the caller repeats the
     * last valid row's start in the rest.
     */
    abstract void tileAtBases(float[] a, int[] base, int offset, int rows, float[] b, int b0, int ldb, int k0, int k1,
            float[] y, int y0, int ldy, boolean accumulate);

    /** The micro-kernel for a species: six rows by four vectors on 512-bit vectors, by two otherwise. */
    static JvMicroKernel of(VectorSpecies<Float> species) {
        return switch (species.vectorShape()) {
            case S_512_BIT -> JvMicro512.INSTANCE;
            case S_256_BIT -> JvMicroPair.P256.INSTANCE;
            case S_128_BIT -> JvMicroPair.P128.INSTANCE;
            default -> new JvMicroPair.Other(species);
        };
    }

    @Override
    public String toString() {
        return ROWS + "x" + width() + " micro-kernel";
    }
}
