package dev.mue.backend.java.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The micro-kernels on 512-bit vectors (AVX-512): tiles of six rows by four vectors (64 columns),
 * 24 accumulators plus four panel vectors and a broadcast, within the 32 vector registers. Written
 * out by hand, with the species a constant, so that C2 keeps every vector in a register.
 */
final class JvMicro512 extends JvMicroKernel {
    static final JvMicro512 INSTANCE = new JvMicro512();
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_512;

    private JvMicro512() {
    }

    @Override
    int width() {
        return 64;
    }

    @Override
    int lanes() {
        return 16;
    }

    @Override
    void tile(float[] a, int a0, int lda, int rows, float[] b, int b0, int ldb, int k0, int k1, float[] y, int y0,
            int ldy, boolean accumulate) {
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
        FloatVector c00 = accumulate ? FloatVector.fromArray(SP, y, y0) : FloatVector.zero(SP);
        FloatVector c01 = accumulate ? FloatVector.fromArray(SP, y, y0 + 16) : FloatVector.zero(SP);
        FloatVector c02 = accumulate ? FloatVector.fromArray(SP, y, y0 + 32) : FloatVector.zero(SP);
        FloatVector c03 = accumulate ? FloatVector.fromArray(SP, y, y0 + 48) : FloatVector.zero(SP);
        FloatVector c10 = accumulate ? FloatVector.fromArray(SP, y, y1) : FloatVector.zero(SP);
        FloatVector c11 = accumulate ? FloatVector.fromArray(SP, y, y1 + 16) : FloatVector.zero(SP);
        FloatVector c12 = accumulate ? FloatVector.fromArray(SP, y, y1 + 32) : FloatVector.zero(SP);
        FloatVector c13 = accumulate ? FloatVector.fromArray(SP, y, y1 + 48) : FloatVector.zero(SP);
        FloatVector c20 = accumulate ? FloatVector.fromArray(SP, y, y2) : FloatVector.zero(SP);
        FloatVector c21 = accumulate ? FloatVector.fromArray(SP, y, y2 + 16) : FloatVector.zero(SP);
        FloatVector c22 = accumulate ? FloatVector.fromArray(SP, y, y2 + 32) : FloatVector.zero(SP);
        FloatVector c23 = accumulate ? FloatVector.fromArray(SP, y, y2 + 48) : FloatVector.zero(SP);
        FloatVector c30 = accumulate ? FloatVector.fromArray(SP, y, y3) : FloatVector.zero(SP);
        FloatVector c31 = accumulate ? FloatVector.fromArray(SP, y, y3 + 16) : FloatVector.zero(SP);
        FloatVector c32 = accumulate ? FloatVector.fromArray(SP, y, y3 + 32) : FloatVector.zero(SP);
        FloatVector c33 = accumulate ? FloatVector.fromArray(SP, y, y3 + 48) : FloatVector.zero(SP);
        FloatVector c40 = accumulate ? FloatVector.fromArray(SP, y, y4) : FloatVector.zero(SP);
        FloatVector c41 = accumulate ? FloatVector.fromArray(SP, y, y4 + 16) : FloatVector.zero(SP);
        FloatVector c42 = accumulate ? FloatVector.fromArray(SP, y, y4 + 32) : FloatVector.zero(SP);
        FloatVector c43 = accumulate ? FloatVector.fromArray(SP, y, y4 + 48) : FloatVector.zero(SP);
        FloatVector c50 = accumulate ? FloatVector.fromArray(SP, y, y5) : FloatVector.zero(SP);
        FloatVector c51 = accumulate ? FloatVector.fromArray(SP, y, y5 + 16) : FloatVector.zero(SP);
        FloatVector c52 = accumulate ? FloatVector.fromArray(SP, y, y5 + 32) : FloatVector.zero(SP);
        FloatVector c53 = accumulate ? FloatVector.fromArray(SP, y, y5 + 48) : FloatVector.zero(SP);
        for (int i = k0; i < k1; i++) {
            int bo = b0 + i * ldb;
            FloatVector w0 = FloatVector.fromArray(SP, b, bo);
            FloatVector w1 = FloatVector.fromArray(SP, b, bo + 16);
            FloatVector w2 = FloatVector.fromArray(SP, b, bo + 32);
            FloatVector w3 = FloatVector.fromArray(SP, b, bo + 48);
            FloatVector x = FloatVector.broadcast(SP, a[a0 + i]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02); c03 = x.fma(w3, c03);
            x = FloatVector.broadcast(SP, a[a1 + i]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12); c13 = x.fma(w3, c13);
            x = FloatVector.broadcast(SP, a[a2 + i]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22); c23 = x.fma(w3, c23);
            x = FloatVector.broadcast(SP, a[a3 + i]);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32); c33 = x.fma(w3, c33);
            x = FloatVector.broadcast(SP, a[a4 + i]);
            c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42); c43 = x.fma(w3, c43);
            x = FloatVector.broadcast(SP, a[a5 + i]);
            c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52); c53 = x.fma(w3, c53);
        }
        c00.intoArray(y, y0);
        c01.intoArray(y, y0 + 16);
        c02.intoArray(y, y0 + 32);
        c03.intoArray(y, y0 + 48);
        c10.intoArray(y, y1);
        c11.intoArray(y, y1 + 16);
        c12.intoArray(y, y1 + 32);
        c13.intoArray(y, y1 + 48);
        c20.intoArray(y, y2);
        c21.intoArray(y, y2 + 16);
        c22.intoArray(y, y2 + 32);
        c23.intoArray(y, y2 + 48);
        c30.intoArray(y, y3);
        c31.intoArray(y, y3 + 16);
        c32.intoArray(y, y3 + 32);
        c33.intoArray(y, y3 + 48);
        c40.intoArray(y, y4);
        c41.intoArray(y, y4 + 16);
        c42.intoArray(y, y4 + 32);
        c43.intoArray(y, y4 + 48);
        c50.intoArray(y, y5);
        c51.intoArray(y, y5 + 16);
        c52.intoArray(y, y5 + 32);
        c53.intoArray(y, y5 + 48);
    }

    @Override
    void row(float[] a, int a0, float[] b, int b0, int ldb, int k0, int k1, float[] y, int y0, boolean accumulate) {
        FloatVector c0 = accumulate ? FloatVector.fromArray(SP, y, y0) : FloatVector.zero(SP);
        FloatVector c1 = accumulate ? FloatVector.fromArray(SP, y, y0 + 16) : FloatVector.zero(SP);
        FloatVector c2 = accumulate ? FloatVector.fromArray(SP, y, y0 + 32) : FloatVector.zero(SP);
        FloatVector c3 = accumulate ? FloatVector.fromArray(SP, y, y0 + 48) : FloatVector.zero(SP);
        for (int i = k0; i < k1; i++) {
            int bo = b0 + i * ldb;
            FloatVector x = FloatVector.broadcast(SP, a[a0 + i]);
            c0 = x.fma(FloatVector.fromArray(SP, b, bo), c0);
            c1 = x.fma(FloatVector.fromArray(SP, b, bo + 16), c1);
            c2 = x.fma(FloatVector.fromArray(SP, b, bo + 32), c2);
            c3 = x.fma(FloatVector.fromArray(SP, b, bo + 48), c3);
        }
        c0.intoArray(y, y0);
        c1.intoArray(y, y0 + 16);
        c2.intoArray(y, y0 + 32);
        c3.intoArray(y, y0 + 48);
    }

    @Override
    void tileAtBases(float[] a, int[] base, int offset, int rows, float[] b, int b0, int ldb, int k0, int k1, float[] y,
            int y0, int ldy, boolean accumulate) {
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
        FloatVector c00 = accumulate ? FloatVector.fromArray(SP, y, y0) : FloatVector.zero(SP);
        FloatVector c01 = accumulate ? FloatVector.fromArray(SP, y, y0 + 16) : FloatVector.zero(SP);
        FloatVector c02 = accumulate ? FloatVector.fromArray(SP, y, y0 + 32) : FloatVector.zero(SP);
        FloatVector c03 = accumulate ? FloatVector.fromArray(SP, y, y0 + 48) : FloatVector.zero(SP);
        FloatVector c10 = accumulate ? FloatVector.fromArray(SP, y, y1) : FloatVector.zero(SP);
        FloatVector c11 = accumulate ? FloatVector.fromArray(SP, y, y1 + 16) : FloatVector.zero(SP);
        FloatVector c12 = accumulate ? FloatVector.fromArray(SP, y, y1 + 32) : FloatVector.zero(SP);
        FloatVector c13 = accumulate ? FloatVector.fromArray(SP, y, y1 + 48) : FloatVector.zero(SP);
        FloatVector c20 = accumulate ? FloatVector.fromArray(SP, y, y2) : FloatVector.zero(SP);
        FloatVector c21 = accumulate ? FloatVector.fromArray(SP, y, y2 + 16) : FloatVector.zero(SP);
        FloatVector c22 = accumulate ? FloatVector.fromArray(SP, y, y2 + 32) : FloatVector.zero(SP);
        FloatVector c23 = accumulate ? FloatVector.fromArray(SP, y, y2 + 48) : FloatVector.zero(SP);
        FloatVector c30 = accumulate ? FloatVector.fromArray(SP, y, y3) : FloatVector.zero(SP);
        FloatVector c31 = accumulate ? FloatVector.fromArray(SP, y, y3 + 16) : FloatVector.zero(SP);
        FloatVector c32 = accumulate ? FloatVector.fromArray(SP, y, y3 + 32) : FloatVector.zero(SP);
        FloatVector c33 = accumulate ? FloatVector.fromArray(SP, y, y3 + 48) : FloatVector.zero(SP);
        FloatVector c40 = accumulate ? FloatVector.fromArray(SP, y, y4) : FloatVector.zero(SP);
        FloatVector c41 = accumulate ? FloatVector.fromArray(SP, y, y4 + 16) : FloatVector.zero(SP);
        FloatVector c42 = accumulate ? FloatVector.fromArray(SP, y, y4 + 32) : FloatVector.zero(SP);
        FloatVector c43 = accumulate ? FloatVector.fromArray(SP, y, y4 + 48) : FloatVector.zero(SP);
        FloatVector c50 = accumulate ? FloatVector.fromArray(SP, y, y5) : FloatVector.zero(SP);
        FloatVector c51 = accumulate ? FloatVector.fromArray(SP, y, y5 + 16) : FloatVector.zero(SP);
        FloatVector c52 = accumulate ? FloatVector.fromArray(SP, y, y5 + 32) : FloatVector.zero(SP);
        FloatVector c53 = accumulate ? FloatVector.fromArray(SP, y, y5 + 48) : FloatVector.zero(SP);
        for (int i = k0; i < k1; i++) {
            int bo = b0 + i * ldb;
            FloatVector w0 = FloatVector.fromArray(SP, b, bo);
            FloatVector w1 = FloatVector.fromArray(SP, b, bo + 16);
            FloatVector w2 = FloatVector.fromArray(SP, b, bo + 32);
            FloatVector w3 = FloatVector.fromArray(SP, b, bo + 48);
            FloatVector x = FloatVector.broadcast(SP, a[a0 + i]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02); c03 = x.fma(w3, c03);
            x = FloatVector.broadcast(SP, a[a1 + i]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12); c13 = x.fma(w3, c13);
            x = FloatVector.broadcast(SP, a[a2 + i]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22); c23 = x.fma(w3, c23);
            x = FloatVector.broadcast(SP, a[a3 + i]);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32); c33 = x.fma(w3, c33);
            x = FloatVector.broadcast(SP, a[a4 + i]);
            c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42); c43 = x.fma(w3, c43);
            x = FloatVector.broadcast(SP, a[a5 + i]);
            c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52); c53 = x.fma(w3, c53);
        }
        c00.intoArray(y, y0);
        c01.intoArray(y, y0 + 16);
        c02.intoArray(y, y0 + 32);
        c03.intoArray(y, y0 + 48);
        c10.intoArray(y, y1);
        c11.intoArray(y, y1 + 16);
        c12.intoArray(y, y1 + 32);
        c13.intoArray(y, y1 + 48);
        c20.intoArray(y, y2);
        c21.intoArray(y, y2 + 16);
        c22.intoArray(y, y2 + 32);
        c23.intoArray(y, y2 + 48);
        c30.intoArray(y, y3);
        c31.intoArray(y, y3 + 16);
        c32.intoArray(y, y3 + 32);
        c33.intoArray(y, y3 + 48);
        c40.intoArray(y, y4);
        c41.intoArray(y, y4 + 16);
        c42.intoArray(y, y4 + 32);
        c43.intoArray(y, y4 + 48);
        c50.intoArray(y, y5);
        c51.intoArray(y, y5 + 16);
        c52.intoArray(y, y5 + 32);
        c53.intoArray(y, y5 + 48);
    }
}
