package dev.mue.backend.java.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The micro-kernels on vectors narrower than 512 bits (AVX2's 256, SSE's or NEON's 128): tiles of
 * six rows by two vectors, 12 accumulators plus two panel vectors and a broadcast, within 16
 * vector registers. The species comes from {@link #sp()}, which each final subclass answers with a
 * static final field: a process uses one shape, so the JIT inlines it as a constant.
 */
abstract sealed class JvMicroPair extends JvMicroKernel permits JvMicroPair.P256, JvMicroPair.P128,
        JvMicroPair.Other {

    abstract VectorSpecies<Float> sp();

    @Override
    int width() {
        return 2 * sp().length();
    }

    @Override
    int lanes() {
        return sp().length();
    }

    /** AVX2. */
    static final class P256 extends JvMicroPair {
        static final P256 INSTANCE = new P256();
        private static final VectorSpecies<Float> SP = FloatVector.SPECIES_256;

        private P256() {
        }

        @Override
        VectorSpecies<Float> sp() {
            return SP;
        }
    }

    /** SSE, NEON. */
    static final class P128 extends JvMicroPair {
        static final P128 INSTANCE = new P128();
        private static final VectorSpecies<Float> SP = FloatVector.SPECIES_128;

        private P128() {
        }

        @Override
        VectorSpecies<Float> sp() {
            return SP;
        }
    }

    /**
     * Any other shape (64 bits, or a scalable maximum): the species is not a constant here, so the
     * loops are correct but may not compile to SIMD.
     */
    static final class Other extends JvMicroPair {
        private final VectorSpecies<Float> species;

        Other(VectorSpecies<Float> species) {
            this.species = species;
        }

        @Override
        VectorSpecies<Float> sp() {
            return species;
        }
    }

    @Override
    final void tile(float[] a, int a0, int lda, int rows, float[] b, int b0, int ldb, int k0, int k1, float[] y, int y0,
            int ldy, boolean accumulate) {
        VectorSpecies<Float> sp = sp();
        int len = sp.length();
        int a1 = rows > 1 ? a0 + lda : a0;
        int a2 = rows > 2 ? a1 + lda : a1;
        int a3 = rows > 3 ? a2 + lda : a2;
        int a4 = rows > 4 ? a3 + lda : a3;
        int a5 = rows > 5 ? a4 + lda : a4;
        int y1 = rows > 1 ? y0 + ldy : y0;
        int y2 = rows > 2 ? y1 + ldy : y1;
        int y3 = rows > 3 ? y2 + ldy : y2;
        int y4 = rows > 4 ? y3 + ldy : y3;
        int y5 = rows > 5 ? y4 + ldy : y4;
        FloatVector c00 = accumulate ? FloatVector.fromArray(sp, y, y0) : FloatVector.zero(sp);
        FloatVector c01 = accumulate ? FloatVector.fromArray(sp, y, y0 + len) : FloatVector.zero(sp);
        FloatVector c10 = accumulate ? FloatVector.fromArray(sp, y, y1) : FloatVector.zero(sp);
        FloatVector c11 = accumulate ? FloatVector.fromArray(sp, y, y1 + len) : FloatVector.zero(sp);
        FloatVector c20 = accumulate ? FloatVector.fromArray(sp, y, y2) : FloatVector.zero(sp);
        FloatVector c21 = accumulate ? FloatVector.fromArray(sp, y, y2 + len) : FloatVector.zero(sp);
        FloatVector c30 = accumulate ? FloatVector.fromArray(sp, y, y3) : FloatVector.zero(sp);
        FloatVector c31 = accumulate ? FloatVector.fromArray(sp, y, y3 + len) : FloatVector.zero(sp);
        FloatVector c40 = accumulate ? FloatVector.fromArray(sp, y, y4) : FloatVector.zero(sp);
        FloatVector c41 = accumulate ? FloatVector.fromArray(sp, y, y4 + len) : FloatVector.zero(sp);
        FloatVector c50 = accumulate ? FloatVector.fromArray(sp, y, y5) : FloatVector.zero(sp);
        FloatVector c51 = accumulate ? FloatVector.fromArray(sp, y, y5 + len) : FloatVector.zero(sp);
        for (int i = k0; i < k1; i++) {
            int bo = b0 + i * ldb;
            FloatVector w0 = FloatVector.fromArray(sp, b, bo);
            FloatVector w1 = FloatVector.fromArray(sp, b, bo + len);
            FloatVector x = FloatVector.broadcast(sp, a[a0 + i]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01);
            x = FloatVector.broadcast(sp, a[a1 + i]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11);
            x = FloatVector.broadcast(sp, a[a2 + i]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21);
            x = FloatVector.broadcast(sp, a[a3 + i]);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31);
            x = FloatVector.broadcast(sp, a[a4 + i]);
            c40 = x.fma(w0, c40); c41 = x.fma(w1, c41);
            x = FloatVector.broadcast(sp, a[a5 + i]);
            c50 = x.fma(w0, c50); c51 = x.fma(w1, c51);
        }
        c00.intoArray(y, y0);
        c01.intoArray(y, y0 + len);
        c10.intoArray(y, y1);
        c11.intoArray(y, y1 + len);
        c20.intoArray(y, y2);
        c21.intoArray(y, y2 + len);
        c30.intoArray(y, y3);
        c31.intoArray(y, y3 + len);
        c40.intoArray(y, y4);
        c41.intoArray(y, y4 + len);
        c50.intoArray(y, y5);
        c51.intoArray(y, y5 + len);
    }

    @Override
    final void row(float[] a, int a0, float[] b, int b0, int ldb, int k0, int k1, float[] y, int y0,
            boolean accumulate) {
        VectorSpecies<Float> sp = sp();
        int len = sp.length();
        FloatVector c0 = accumulate ? FloatVector.fromArray(sp, y, y0) : FloatVector.zero(sp);
        FloatVector c1 = accumulate ? FloatVector.fromArray(sp, y, y0 + len) : FloatVector.zero(sp);
        for (int i = k0; i < k1; i++) {
            int bo = b0 + i * ldb;
            FloatVector x = FloatVector.broadcast(sp, a[a0 + i]);
            c0 = x.fma(FloatVector.fromArray(sp, b, bo), c0);
            c1 = x.fma(FloatVector.fromArray(sp, b, bo + len), c1);
        }
        c0.intoArray(y, y0);
        c1.intoArray(y, y0 + len);
    }

    @Override
    final void tileAtBases(float[] a, int[] base, int offset, int rows, float[] b, int b0, int ldb, int k0, int k1,
            float[] y, int y0, int ldy, boolean accumulate) {
        VectorSpecies<Float> sp = sp();
        int len = sp.length();
        int a0 = base[0] + offset;
        int a1 = base[1] + offset;
        int a2 = base[2] + offset;
        int a3 = base[3] + offset;
        int a4 = base[4] + offset;
        int a5 = base[5] + offset;
        int y1 = rows > 1 ? y0 + ldy : y0;
        int y2 = rows > 2 ? y1 + ldy : y1;
        int y3 = rows > 3 ? y2 + ldy : y2;
        int y4 = rows > 4 ? y3 + ldy : y3;
        int y5 = rows > 5 ? y4 + ldy : y4;
        FloatVector c00 = accumulate ? FloatVector.fromArray(sp, y, y0) : FloatVector.zero(sp);
        FloatVector c01 = accumulate ? FloatVector.fromArray(sp, y, y0 + len) : FloatVector.zero(sp);
        FloatVector c10 = accumulate ? FloatVector.fromArray(sp, y, y1) : FloatVector.zero(sp);
        FloatVector c11 = accumulate ? FloatVector.fromArray(sp, y, y1 + len) : FloatVector.zero(sp);
        FloatVector c20 = accumulate ? FloatVector.fromArray(sp, y, y2) : FloatVector.zero(sp);
        FloatVector c21 = accumulate ? FloatVector.fromArray(sp, y, y2 + len) : FloatVector.zero(sp);
        FloatVector c30 = accumulate ? FloatVector.fromArray(sp, y, y3) : FloatVector.zero(sp);
        FloatVector c31 = accumulate ? FloatVector.fromArray(sp, y, y3 + len) : FloatVector.zero(sp);
        FloatVector c40 = accumulate ? FloatVector.fromArray(sp, y, y4) : FloatVector.zero(sp);
        FloatVector c41 = accumulate ? FloatVector.fromArray(sp, y, y4 + len) : FloatVector.zero(sp);
        FloatVector c50 = accumulate ? FloatVector.fromArray(sp, y, y5) : FloatVector.zero(sp);
        FloatVector c51 = accumulate ? FloatVector.fromArray(sp, y, y5 + len) : FloatVector.zero(sp);
        for (int i = k0; i < k1; i++) {
            int bo = b0 + i * ldb;
            FloatVector w0 = FloatVector.fromArray(sp, b, bo);
            FloatVector w1 = FloatVector.fromArray(sp, b, bo + len);
            FloatVector x = FloatVector.broadcast(sp, a[a0 + i]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01);
            x = FloatVector.broadcast(sp, a[a1 + i]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11);
            x = FloatVector.broadcast(sp, a[a2 + i]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21);
            x = FloatVector.broadcast(sp, a[a3 + i]);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31);
            x = FloatVector.broadcast(sp, a[a4 + i]);
            c40 = x.fma(w0, c40); c41 = x.fma(w1, c41);
            x = FloatVector.broadcast(sp, a[a5 + i]);
            c50 = x.fma(w0, c50); c51 = x.fma(w1, c51);
        }
        c00.intoArray(y, y0);
        c01.intoArray(y, y0 + len);
        c10.intoArray(y, y1);
        c11.intoArray(y, y1 + len);
        c20.intoArray(y, y2);
        c21.intoArray(y, y2 + len);
        c30.intoArray(y, y3);
        c31.intoArray(y, y3 + len);
        c40.intoArray(y, y4);
        c41.intoArray(y, y4 + len);
        c50.intoArray(y, y5);
        c51.intoArray(y, y5 + len);
    }
}
