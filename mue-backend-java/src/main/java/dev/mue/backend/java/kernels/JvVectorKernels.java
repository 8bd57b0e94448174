package dev.mue.backend.java.kernels;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast {@link JvKernels}: Vector API loops with register-blocked GEMM, optionally spread over a
 * caller-owned {@link ForkJoinPool}.
 *
 * <p>Determinism. Every output element is computed by one fixed sequence of IEEE operations that
 * depends only on the reduction length and the species, never on the row count, the offsets, the
 * block an element falls in or the thread count. A dot product of length {@code n} is: one lane
 * accumulator per vector step ({@code acc = a.fma(b, acc)} over {@code [0, loopBound(n))}), then
 * the lanes summed by a fixed halving tree ({@code lane[i] += lane[i + w]} for
 * {@code w = L/2, L/4, ..., 1}), then the scalar tail folded in with {@link Math#fma} in index order.
 * {@code reduceLanes(ADD)} is deliberately not used: its summation order is unspecified and may
 * differ between the interpreter and compiled code. Transcendentals ({@code exp} in softmax and
 * GELU) are likewise built from lanewise arithmetic rather than the {@code EXP} operator, whose
 * result may differ by an ulp between the intrinsic and the fallback; elementwise tails use masked
 * vectors so that the same lanewise operations produce them.
 *
 * <p>Speed. The Vector API compiles to SIMD only when the species is a compile-time constant, so
 * the species lives in a static final field of a small per-shape class ({@link Lanes}); the hot
 * loops read it through a call that the JIT inlines as long as a process uses one shape.
 *
 * <p>Instances are immutable and thread-safe; the pool is the caller's and is never shut down here.
 */
public final class JvVectorKernels implements JvKernels {
    /** Rows of a GEMM register block: each loaded {@code w} vector is reused this many times. */
    private static final int MR = 4;
    /** Columns of a GEMM register block: each loaded {@code x} vector is reused this many times. */
    private static final int NR = 3;
    /** Below this many multiply-adds a GEMM or convolution runs on the calling thread. */
    private static final long PARALLEL_MACS = 1L << 15;
    /** Floats of {@code w} rows one column tile spans, sized to stay in L2 while row blocks reuse it. */
    private static final int TILE_FLOATS = 1 << 15;
    /** Floats of one im2col block, sized like a GEMM column tile. */
    private static final int IM2COL_FLOATS = 1 << 15;

    // exp: Cody-Waite reduction by ln 2 and the Cephes expf polynomial (about 1 ulp on [-ln2/2, ln2/2]).
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds to an integer kept in the low mantissa bits. */
    private static final float ROUND_MAGIC = 12582912f;
    private static final int ROUND_MAGIC_BITS = 0x4B400000;
    /** ln(2^-126): below it exp would be subnormal, and is flushed to zero. */
    private static final float EXP_MIN = -87.33654f;
    private static final float EXP_CLAMP = -100f;
    private static final float EXP_P0 = 1.9875691500e-4f;
    private static final float EXP_P1 = 1.3981999507e-3f;
    private static final float EXP_P2 = 8.3334519073e-3f;
    private static final float EXP_P3 = 4.1665795894e-2f;
    private static final float EXP_P4 = 1.6666665459e-1f;
    private static final float EXP_P5 = 5.0000001201e-1f;

    // erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2): Numerical Recipes' erfcc, relative error
    // below 1.2e-7 for every z >= 0, so GELU keeps its relative accuracy far into the negative tail.
    private static final float ERFC_C0 = -1.26551223f;
    private static final float ERFC_C1 = 1.00002368f;
    private static final float ERFC_C2 = 0.37409196f;
    private static final float ERFC_C3 = 0.09678418f;
    private static final float ERFC_C4 = -0.18628806f;
    private static final float ERFC_C5 = 0.27886807f;
    private static final float ERFC_C6 = -1.13520398f;
    private static final float ERFC_C7 = 1.48851587f;
    private static final float ERFC_C8 = -0.82215223f;
    private static final float ERFC_C9 = 0.17087277f;
    /** z / 2 = |x| / (2 sqrt 2) in t = 1 / (1 + z/2). */
    private static final float HALF_SQRT_HALF = (float) (0.5 / Math.sqrt(2));
    /** Beyond |x| = 16 the GELU tail exp(-x^2/2) is far below the float range. */
    private static final float GELU_CLAMP = 16f;

    private final Lanes lanes;
    private final ForkJoinPool pool;

    /**
     * Kernels on {@link FloatVector#SPECIES_PREFERRED}.
     *
     * @param pool the caller's pool for large GEMMs and convolutions, or null to stay on the calling thread
     */
    public JvVectorKernels(ForkJoinPool pool) {
        this(FloatVector.SPECIES_PREFERRED, pool);
    }

    /**
     * Kernels on a given float species, for tests that force a narrower vector than the preferred one.
     *
     * @param pool the caller's pool for large GEMMs and convolutions, or null to stay on the calling thread
     */
    public JvVectorKernels(VectorSpecies<Float> species, ForkJoinPool pool) {
        Objects.requireNonNull(species, "species");
        if (species.elementType() != float.class) {
            throw new IllegalArgumentException("not a float species: " + species);
        }
        this.lanes = Lanes.of(species.vectorShape());
        this.pool = pool;
    }

    /** The float species the kernels run on. */
    public VectorSpecies<Float> species() {
        return lanes.floats();
    }

    @Override
    public String name() {
        return "vector";
    }

    // ---------------------------------------------------------------- linear / GEMM

    @Override
    public void linear(float[] x, int xOff, int rows, int in, float[] w, float[] bias, int out, float[] y, int yOff) {
        gemm(x, xOff, rows, in, w, 0, out, bias, y, yOff, out);
    }

    /**
     * {@code y[yOff + r*ldy + c] = sum_i a[aOff + r*k + i] * b[bOff + c*k + i] (+ bias[c])} for
     * {@code rows x cols}, split into tasks over row and column blocks when large enough.
     */
    private void gemm(float[] a, int aOff, int rows, int k, float[] b, int bOff, int cols, float[] bias, float[] y,
            int yOff, int ldy) {
        if (rows <= 0 || cols <= 0) {
            return;
        }
        long macs = (long) rows * cols * Math.max(k, 1);
        int par = pool == null ? 1 : pool.getParallelism();
        if (par <= 1 || macs < PARALLEL_MACS) {
            gemmTile(a, aOff, k, b, bOff, bias, y, yOff, ldy, 0, rows, 0, cols);
            return;
        }
        // A few tasks per worker for balance; columns first, since weights dominate the memory traffic.
        int target = par * 4;
        int colUnits = ceilDiv(cols, NR);
        int colStep = ceilDiv(colUnits, Math.min(target, colUnits)) * NR;
        int colTasks = ceilDiv(cols, colStep);
        int rowUnits = ceilDiv(rows, MR);
        int rowStep = ceilDiv(rowUnits, Math.min(rowUnits, ceilDiv(target, colTasks))) * MR;
        int rowTasks = ceilDiv(rows, rowStep);
        forEach(rowTasks * colTasks, t -> {
            int r0 = (t / colTasks) * rowStep;
            int c0 = (t % colTasks) * colStep;
            gemmTile(a, aOff, k, b, bOff, bias, y, yOff, ldy, r0, Math.min(rows, r0 + rowStep), c0,
                    Math.min(cols, c0 + colStep));
        });
    }

    /** One task's share of {@link #gemm}: column tiles that fit in cache, each swept by all row blocks. */
    private void gemmTile(float[] a, int aOff, int k, float[] b, int bOff, float[] bias, float[] y, int yOff,
            int ldy, int r0, int r1, int c0, int c1) {
        float[] red = new float[lanes.floats().length()];
        int tile = Math.max(NR, TILE_FLOATS / Math.max(k, 1) / NR * NR);
        for (int ct = c0; ct < c1; ct += tile) {
            int ce = Math.min(c1, ct + tile);
            int r = r0;
            for (; r + MR <= r1; r += MR) {
                int c = ct;
                for (; c + NR <= ce; c += NR) {
                    block4x3(a, aOff + r * k, k, b, bOff + c * k, bias, c, y, yOff + r * ldy + c, ldy, red);
                }
                for (; c < ce; c++) {
                    block4x1(a, aOff + r * k, k, b, bOff + c * k, bias, c, y, yOff + r * ldy + c, ldy, red);
                }
            }
            for (; r < r1; r++) {
                int c = ct;
                for (; c + NR <= ce; c += NR) {
                    block1x3(a, aOff + r * k, k, b, bOff + c * k, bias, c, y, yOff + r * ldy + c, red);
                }
                for (; c < ce; c++) {
                    y[yOff + r * ldy + c] = withBias(dot(a, aOff + r * k, b, bOff + c * k, k, red), bias, c);
                }
            }
        }
    }

    /** Four rows by three columns; rows of {@code a} and {@code b} are {@code k} apart. */
    private void block4x3(float[] a, int a0, int k, float[] b, int b0, float[] bias, int col, float[] y, int y0,
            int ldy, float[] red) {
        VectorSpecies<Float> sp = lanes.floats();
        int kv = sp.loopBound(k);
        int a1 = a0 + k;
        int a2 = a1 + k;
        int a3 = a2 + k;
        int b1 = b0 + k;
        int b2 = b1 + k;
        FloatVector s00 = FloatVector.zero(sp);
        FloatVector s01 = s00;
        FloatVector s02 = s00;
        FloatVector s10 = s00;
        FloatVector s11 = s00;
        FloatVector s12 = s00;
        FloatVector s20 = s00;
        FloatVector s21 = s00;
        FloatVector s22 = s00;
        FloatVector s30 = s00;
        FloatVector s31 = s00;
        FloatVector s32 = s00;
        for (int i = 0; i < kv; i += sp.length()) {
            FloatVector x0 = FloatVector.fromArray(sp, a, a0 + i);
            FloatVector x1 = FloatVector.fromArray(sp, a, a1 + i);
            FloatVector x2 = FloatVector.fromArray(sp, a, a2 + i);
            FloatVector x3 = FloatVector.fromArray(sp, a, a3 + i);
            FloatVector w = FloatVector.fromArray(sp, b, b0 + i);
            s00 = x0.fma(w, s00);
            s10 = x1.fma(w, s10);
            s20 = x2.fma(w, s20);
            s30 = x3.fma(w, s30);
            w = FloatVector.fromArray(sp, b, b1 + i);
            s01 = x0.fma(w, s01);
            s11 = x1.fma(w, s11);
            s21 = x2.fma(w, s21);
            s31 = x3.fma(w, s31);
            w = FloatVector.fromArray(sp, b, b2 + i);
            s02 = x0.fma(w, s02);
            s12 = x1.fma(w, s12);
            s22 = x2.fma(w, s22);
            s32 = x3.fma(w, s32);
        }
        y[y0] = withBias(finish(s00, a, a0, b, b0, kv, k, red), bias, col);
        y[y0 + 1] = withBias(finish(s01, a, a0, b, b1, kv, k, red), bias, col + 1);
        y[y0 + 2] = withBias(finish(s02, a, a0, b, b2, kv, k, red), bias, col + 2);
        y0 += ldy;
        y[y0] = withBias(finish(s10, a, a1, b, b0, kv, k, red), bias, col);
        y[y0 + 1] = withBias(finish(s11, a, a1, b, b1, kv, k, red), bias, col + 1);
        y[y0 + 2] = withBias(finish(s12, a, a1, b, b2, kv, k, red), bias, col + 2);
        y0 += ldy;
        y[y0] = withBias(finish(s20, a, a2, b, b0, kv, k, red), bias, col);
        y[y0 + 1] = withBias(finish(s21, a, a2, b, b1, kv, k, red), bias, col + 1);
        y[y0 + 2] = withBias(finish(s22, a, a2, b, b2, kv, k, red), bias, col + 2);
        y0 += ldy;
        y[y0] = withBias(finish(s30, a, a3, b, b0, kv, k, red), bias, col);
        y[y0 + 1] = withBias(finish(s31, a, a3, b, b1, kv, k, red), bias, col + 1);
        y[y0 + 2] = withBias(finish(s32, a, a3, b, b2, kv, k, red), bias, col + 2);
    }

    /** Four rows by one column, for the columns left over from {@link #block4x3}. */
    private void block4x1(float[] a, int a0, int k, float[] b, int b0, float[] bias, int col, float[] y, int y0,
            int ldy, float[] red) {
        VectorSpecies<Float> sp = lanes.floats();
        int kv = sp.loopBound(k);
        int a1 = a0 + k;
        int a2 = a1 + k;
        int a3 = a2 + k;
        FloatVector s0 = FloatVector.zero(sp);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        for (int i = 0; i < kv; i += sp.length()) {
            FloatVector w = FloatVector.fromArray(sp, b, b0 + i);
            s0 = FloatVector.fromArray(sp, a, a0 + i).fma(w, s0);
            s1 = FloatVector.fromArray(sp, a, a1 + i).fma(w, s1);
            s2 = FloatVector.fromArray(sp, a, a2 + i).fma(w, s2);
            s3 = FloatVector.fromArray(sp, a, a3 + i).fma(w, s3);
        }
        y[y0] = withBias(finish(s0, a, a0, b, b0, kv, k, red), bias, col);
        y[y0 + ldy] = withBias(finish(s1, a, a1, b, b0, kv, k, red), bias, col);
        y[y0 + 2 * ldy] = withBias(finish(s2, a, a2, b, b0, kv, k, red), bias, col);
        y[y0 + 3 * ldy] = withBias(finish(s3, a, a3, b, b0, kv, k, red), bias, col);
    }

    /** One row by three columns, for the rows left over from {@link #block4x3}. */
    private void block1x3(float[] a, int a0, int k, float[] b, int b0, float[] bias, int col, float[] y, int y0,
            float[] red) {
        VectorSpecies<Float> sp = lanes.floats();
        int kv = sp.loopBound(k);
        int b1 = b0 + k;
        int b2 = b1 + k;
        FloatVector s0 = FloatVector.zero(sp);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        for (int i = 0; i < kv; i += sp.length()) {
            FloatVector x = FloatVector.fromArray(sp, a, a0 + i);
            s0 = x.fma(FloatVector.fromArray(sp, b, b0 + i), s0);
            s1 = x.fma(FloatVector.fromArray(sp, b, b1 + i), s1);
            s2 = x.fma(FloatVector.fromArray(sp, b, b2 + i), s2);
        }
        y[y0] = withBias(finish(s0, a, a0, b, b0, kv, k, red), bias, col);
        y[y0 + 1] = withBias(finish(s1, a, a0, b, b1, kv, k, red), bias, col + 1);
        y[y0 + 2] = withBias(finish(s2, a, a0, b, b2, kv, k, red), bias, col + 2);
    }

    /**
     * The dot product of {@code n} floats in the canonical order: lane accumulators, halving tree,
     * scalar tail. Every blocked kernel above performs exactly these operations per element.
     */
    private float dot(float[] a, int a0, float[] b, int b0, int n, float[] red) {
        VectorSpecies<Float> sp = lanes.floats();
        int nv = sp.loopBound(n);
        FloatVector s = FloatVector.zero(sp);
        for (int i = 0; i < nv; i += sp.length()) {
            s = FloatVector.fromArray(sp, a, a0 + i).fma(FloatVector.fromArray(sp, b, b0 + i), s);
        }
        return finish(s, a, a0, b, b0, nv, n, red);
    }

    /** Sums the lane accumulator by the halving tree, then folds in the scalar tail {@code [kv, k)}. */
    private float finish(FloatVector acc, float[] a, int a0, float[] b, int b0, int kv, int k, float[] red) {
        float s = lanes.sum(acc, red);
        for (int i = kv; i < k; i++) {
            s = Math.fma(a[a0 + i], b[b0 + i], s);
        }
        return s;
    }

    /**
     * The lanes of {@code v} summed by the halving tree, {@code red[i] += red[i + w]} for
     * {@code w = L/2, ..., 1}, through memory: the reference that {@link Lanes#sum} reproduces in registers.
     */
    private static float sumLanes(FloatVector v, float[] red) {
        v.intoArray(red, 0);
        for (int w = red.length >> 1; w > 0; w >>= 1) {
            for (int i = 0; i < w; i++) {
                red[i] += red[i + w];
            }
        }
        return red[0];
    }

    private static float withBias(float s, float[] bias, int col) {
        return bias == null ? s : s + bias[col];
    }

    // ---------------------------------------------------------------- layerNorm

    /**
     * {@inheritDoc}
     *
     * <p>Mean and variance are accumulated in double, like the control: each float vector is widened
     * to two double vectors (two passes, so the variance sums squares of centred values), summed in
     * the canonical order. Only the final {@code (x - mean) * inv * gamma + beta} runs in float, a few
     * ulps from the control.
     */
    @Override
    public void layerNorm(float[] x, int xOff, int rows, int dim, float[] gamma, float[] beta, float eps, float[] y,
            int yOff) {
        VectorSpecies<Float> sp = lanes.floats();
        VectorSpecies<Double> dsp = lanes.doubles();
        int len = sp.length();
        int dv = sp.loopBound(dim);
        double[] red = new double[dsp.length()];
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * dim;
            int yo = yOff + r * dim;
            DoubleVector acc = DoubleVector.zero(dsp);
            for (int i = 0; i < dv; i += len) {
                FloatVector v = FloatVector.fromArray(sp, x, xo + i);
                acc = acc.add(v.convertShape(VectorOperators.F2D, dsp, 0));
                acc = acc.add(v.convertShape(VectorOperators.F2D, dsp, 1));
            }
            double sum = sumLanes(acc, red);
            for (int i = dv; i < dim; i++) {
                sum += x[xo + i];
            }
            double mean = sum / dim;
            acc = DoubleVector.zero(dsp);
            for (int i = 0; i < dv; i += len) {
                FloatVector v = FloatVector.fromArray(sp, x, xo + i);
                DoubleVector d = (DoubleVector) v.convertShape(VectorOperators.F2D, dsp, 0);
                d = d.sub(mean);
                acc = d.fma(d, acc);
                d = (DoubleVector) v.convertShape(VectorOperators.F2D, dsp, 1);
                d = d.sub(mean);
                acc = d.fma(d, acc);
            }
            double sq = sumLanes(acc, red);
            for (int i = dv; i < dim; i++) {
                double d = x[xo + i] - mean;
                sq = Math.fma(d, d, sq);
            }
            float inv = (float) (1 / Math.sqrt(sq / dim + eps));
            float meanF = (float) mean;
            // The scalar tail repeats the lanewise operations (sub, mul, mul, add) one for one.
            for (int i = 0; i < dv; i += len) {
                FloatVector v = FloatVector.fromArray(sp, x, xo + i).sub(meanF).mul(inv);
                v.mul(FloatVector.fromArray(sp, gamma, i)).add(FloatVector.fromArray(sp, beta, i)).intoArray(y, yo + i);
            }
            for (int i = dv; i < dim; i++) {
                y[yo + i] = (x[xo + i] - meanF) * inv * gamma[i] + beta[i];
            }
        }
    }

    // ---------------------------------------------------------------- gelu

    /**
     * {@inheritDoc}
     *
     * <p>Computed in float as {@code x (1 - e)} for {@code x >= 0} and {@code x e} below, where
     * {@code e = erfc(|x| / sqrt 2) / 2} comes from a rational-exponential erfc approximation with
     * relative error under 1.2e-7 (so erf is within 1.2e-7 absolute). Relative error of the result is
     * a few 1e-7 over the whole float range.
     */
    @Override
    public void gelu(float[] x, int off, int len) {
        VectorSpecies<Float> sp = lanes.floats();
        int end = off + len;
        int i = off;
        for (int bound = off + sp.loopBound(len); i < bound; i += sp.length()) {
            geluVector(FloatVector.fromArray(sp, x, i)).intoArray(x, i);
        }
        if (i < end) {
            VectorMask<Float> m = sp.indexInRange(i, end);
            geluVector(FloatVector.fromArray(sp, x, i, m)).intoArray(x, i, m);
        }
    }

    private static FloatVector geluVector(FloatVector x) {
        FloatVector ax = x.abs().min(GELU_CLAMP);
        // t = 1 / (1 + z/2), z = |x| / sqrt 2.
        FloatVector t = ax.fma(HALF_SQRT_HALF, 1f);
        t = FloatVector.broadcast(x.species(), 1f).div(t);
        FloatVector p = t.fma(ERFC_C9, ERFC_C8);
        p = horner(p, t, ERFC_C7);
        p = horner(p, t, ERFC_C6);
        p = horner(p, t, ERFC_C5);
        p = horner(p, t, ERFC_C4);
        p = horner(p, t, ERFC_C3);
        p = horner(p, t, ERFC_C2);
        p = horner(p, t, ERFC_C1);
        p = horner(p, t, ERFC_C0);
        // z^2 = x^2 / 2 split exactly into hi + lo, so that exp(-z^2) keeps full precision for large |x|.
        FloatVector x2 = ax.mul(ax);
        FloatVector x2lo = ax.fma(ax, x2.neg());
        FloatVector e = exp(x2.mul(-0.5f), p.sub(x2lo.mul(0.5f))).mul(t).mul(0.5f);
        FloatVector neg = x.mul(e);
        FloatVector pos = x.mul(e.neg().add(1f));
        return neg.blend(pos, x.compare(VectorOperators.GE, 0f));
    }

    /**
     * {@code exp(a + b)} lanewise for {@code a + b <= 88}, where {@code a} carries the magnitude and
     * {@code b} (|b| of order 1) a correction that the range reduction adds after subtracting
     * {@code n ln 2} from {@code a} exactly. Results below the normal range are flushed to zero.
     */
    private static FloatVector exp(FloatVector a, FloatVector b) {
        a = a.max(EXP_CLAMP);
        FloatVector s = a.add(b);
        FloatVector fx = s.fma(LOG2E, ROUND_MAGIC);
        FloatVector n = fx.sub(ROUND_MAGIC);
        FloatVector r = n.fma(n.broadcast(-LN2_HI), a).sub(n.mul(LN2_LO)).add(b);
        FloatVector r2 = r.mul(r);
        FloatVector q = r.fma(EXP_P0, EXP_P1);
        q = horner(q, r, EXP_P2);
        q = horner(q, r, EXP_P3);
        q = horner(q, r, EXP_P4);
        q = horner(q, r, EXP_P5);
        FloatVector er = q.fma(r2, r).add(1f);
        IntVector bits = fx.reinterpretAsInts();
        FloatVector scale = bits.sub(ROUND_MAGIC_BITS - 127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector res = er.mul(scale);
        return res.blend(0f, s.compare(VectorOperators.LT, EXP_MIN));
    }

    /** One Horner step, {@code p * t + c}, fused. */
    private static FloatVector horner(FloatVector p, FloatVector t, float c) {
        return p.fma(t, p.broadcast(c));
    }

    // ---------------------------------------------------------------- attention

    @Override
    public void attention(float[] q, int qOff, int qStride, float[] k, int kOff, int kStride, float[] v, int vOff,
            int vStride, int nq, int nk, int headDim, float[] bias, int biasOff, int biasStride, boolean causal,
            int causalOffset, float[] out, int outOff, int outStride, float[] scratch) {
        VectorSpecies<Float> sp = lanes.floats();
        int len = sp.length();
        int cv = sp.loopBound(headDim);
        float[] red = new float[len];
        for (int i = 0; i < nq; i++) {
            int limit = causal ? (int) Math.max(0, Math.min(nk, (long) i + causalOffset + 1)) : nk;
            int qo = qOff + i * qStride;
            int oo = outOff + i * outStride;
            if (limit == 0) {
                // Nothing to attend to: the control leaves an all-zero row, and so do we.
                Arrays.fill(out, oo, oo + headDim, 0f);
                continue;
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < limit; j++) {
                float s = dot(q, qo, k, kOff + j * kStride, headDim, red);
                if (bias != null) {
                    s += bias[biasOff + i * biasStride + j];
                }
                scratch[j] = s;
                max = Math.max(max, s);
            }
            FloatVector maxv = FloatVector.broadcast(sp, max);
            FloatVector zero = FloatVector.zero(sp);
            FloatVector sumv = zero;
            int j = 0;
            for (int bound = sp.loopBound(limit); j < bound; j += len) {
                FloatVector e = exp(FloatVector.fromArray(sp, scratch, j).sub(maxv), zero);
                e.intoArray(scratch, j);
                sumv = sumv.add(e);
            }
            if (j < limit) {
                VectorMask<Float> m = sp.indexInRange(j, limit);
                FloatVector e = exp(FloatVector.fromArray(sp, scratch, j, m).sub(maxv), zero);
                e.intoArray(scratch, j, m);
                sumv = sumv.add(e, m);
            }
            float sum = lanes.sum(sumv, red);
            FloatVector sumb = FloatVector.broadcast(sp, sum);
            j = 0;
            for (int bound = sp.loopBound(limit); j < bound; j += len) {
                FloatVector.fromArray(sp, scratch, j).div(sumb).intoArray(scratch, j);
            }
            for (; j < limit; j++) {
                scratch[j] = scratch[j] / sum;
            }
            int c = 0;
            for (; c < cv; c += len) {
                FloatVector acc = zero;
                for (j = 0; j < limit; j++) {
                    FloatVector vj = FloatVector.fromArray(sp, v, vOff + j * vStride + c);
                    acc = vj.fma(FloatVector.broadcast(sp, scratch[j]), acc);
                }
                acc.intoArray(out, oo + c);
            }
            for (; c < headDim; c++) {
                float acc = 0;
                for (j = 0; j < limit; j++) {
                    acc = Math.fma(v[vOff + j * vStride + c], scratch[j], acc);
                }
                out[oo + c] = acc;
            }
        }
    }

    // ---------------------------------------------------------------- conv2d

    /**
     * {@inheritDoc}
     *
     * <p>Output pixels are taken in blocks; each block is unrolled (im2col) into a scratch matrix
     * {@code [pixels, inC*k*k]} and multiplied by the weights, which already have the layout
     * {@code [outC, inC*k*k]}, with the GEMM kernel of {@link #linear}. Blocks run on the pool when the
     * convolution is large.
     */
    @Override
    public void conv2d(float[] in, int inC, int h, int w, float[] weight, int outC, int kernel, int stride, int pad,
            float[] out, int outH, int outW) {
        int pixels = outH * outW;
        if (pixels <= 0 || outC <= 0) {
            return;
        }
        int kk = inC * kernel * kernel;
        int block = Math.max(NR, Math.min(1024, IM2COL_FLOATS / Math.max(kk, 1) / NR * NR));
        int blocks = ceilDiv(pixels, block);
        long macs = (long) outC * pixels * Math.max(kk, 1);
        if (blocks == 1) {
            // A single block (few output pixels): let the GEMM split its channels over the pool.
            float[] buf = new float[pixels * kk];
            im2col(in, inC, h, w, kernel, stride, pad, outW, 0, pixels, buf);
            gemm(weight, 0, outC, kk, buf, 0, pixels, null, out, 0, pixels);
        } else if (pool == null || pool.getParallelism() <= 1 || macs < PARALLEL_MACS) {
            // On the calling thread one scratch matrix serves every block.
            float[] buf = new float[block * kk];
            for (int bi = 0; bi < blocks; bi++) {
                convBlock(in, inC, h, w, weight, outC, kernel, stride, pad, out, outW, pixels, kk, bi * block,
                        Math.min(pixels, (bi + 1) * block), buf);
            }
        } else {
            forEach(blocks, bi -> convBlock(in, inC, h, w, weight, outC, kernel, stride, pad, out, outW, pixels,
                    kk, bi * block, Math.min(pixels, (bi + 1) * block), new float[block * kk]));
        }
    }

    /** Output pixels {@code [p0, p1)} of every channel: im2col into {@code buf}, then the GEMM. */
    private void convBlock(float[] in, int inC, int h, int w, float[] weight, int outC, int kernel, int stride,
            int pad, float[] out, int outW, int pixels, int kk, int p0, int p1, float[] buf) {
        im2col(in, inC, h, w, kernel, stride, pad, outW, p0, p1, buf);
        gemmTile(weight, 0, kk, buf, 0, null, out, p0, pixels, 0, outC, 0, p1 - p0);
    }

    /** Writes row {@code p - p0} of {@code col} as the receptive field of output pixel {@code p}, zero-padded. */
    private static void im2col(float[] in, int inC, int h, int w, int kernel, int stride, int pad, int outW, int p0,
            int p1, float[] col) {
        int idx = 0;
        for (int p = p0; p < p1; p++) {
            int oy = p / outW;
            int ox = p - oy * outW;
            for (int ic = 0; ic < inC; ic++) {
                for (int ky = 0; ky < kernel; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) {
                        Arrays.fill(col, idx, idx + kernel, 0f);
                        idx += kernel;
                        continue;
                    }
                    int rowBase = (ic * h + iy) * w;
                    for (int kx = 0; kx < kernel; kx++) {
                        int ix = ox * stride + kx - pad;
                        col[idx++] = ix < 0 || ix >= w ? 0f : in[rowBase + ix];
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- cosine

    /**
     * {@inheritDoc}
     *
     * <p>Each float vector is widened to two double vectors, so products are exact and only the
     * (fixed-order) double sums round, as in the control.
     */
    @Override
    public double cosine(float[] a, int aOff, float[] b, int bOff, int len) {
        VectorSpecies<Float> sp = lanes.floats();
        VectorSpecies<Double> dsp = lanes.doubles();
        int nv = sp.loopBound(len);
        DoubleVector ab = DoubleVector.zero(dsp);
        DoubleVector aa = ab;
        DoubleVector bb = ab;
        for (int i = 0; i < nv; i += sp.length()) {
            FloatVector fa = FloatVector.fromArray(sp, a, aOff + i);
            FloatVector fb = FloatVector.fromArray(sp, b, bOff + i);
            for (int part = 0; part < 2; part++) {
                DoubleVector x = (DoubleVector) fa.convertShape(VectorOperators.F2D, dsp, part);
                DoubleVector y = (DoubleVector) fb.convertShape(VectorOperators.F2D, dsp, part);
                ab = x.fma(y, ab);
                aa = x.fma(x, aa);
                bb = y.fma(y, bb);
            }
        }
        double[] red = new double[dsp.length()];
        double sab = sumLanes(ab, red);
        double saa = sumLanes(aa, red);
        double sbb = sumLanes(bb, red);
        for (int i = nv; i < len; i++) {
            double x = a[aOff + i];
            double y = b[bOff + i];
            sab += x * y;
            saa += x * x;
            sbb += y * y;
        }
        if (saa == 0 && sbb == 0) {
            return 1;
        }
        if (saa == 0 || sbb == 0) {
            return 0;
        }
        return sab / Math.sqrt(saa * sbb);
    }

    private static double sumLanes(DoubleVector v, double[] red) {
        v.intoArray(red, 0);
        for (int w = red.length >> 1; w > 0; w >>= 1) {
            for (int i = 0; i < w; i++) {
                red[i] += red[i + w];
            }
        }
        return red[0];
    }

    // ---------------------------------------------------------------- plumbing

    /** Runs {@code body} for {@code 0..n-1}, on the pool when there is one and more than one task. */
    private void forEach(int n, IntConsumer body) {
        if (pool == null || n <= 1) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        pool.invoke(new Range(body, 0, n));
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Fork-join over an index range, split in halves down to single indices. */
    private static final class Range extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private final transient IntConsumer body;
        private final int lo;
        private final int hi;

        Range(IntConsumer body, int lo, int hi) {
            this.body = body;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.accept(lo);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Range(body, lo, mid), new Range(body, mid, hi));
        }
    }

    /**
     * Holds the species as a compile-time constant: one final subclass per vector shape, each with
     * its species in a static final field. As long as a process uses one shape the JIT sees a single
     * receiver class, inlines {@link #floats()}, and so compiles the loops to SIMD instructions.
     */
    private abstract static sealed class Lanes permits Lanes64, Lanes128, Lanes256, Lanes512, LanesMax {
        abstract VectorSpecies<Float> floats();

        /** Doubles of the same vector shape: half as many lanes. */
        abstract VectorSpecies<Double> doubles();

        /**
         * The halving-tree sum of the lanes, bitwise equal to {@link JvVectorKernels#sumLanes}: a
         * butterfly {@code v + v.rearrange(i -> i ^ w)} leaves in lane 0 exactly the tree's partial
         * sums, without a trip through memory.
         *
         * @param red scratch of {@code floats().length()} floats for shapes without a butterfly
         */
        abstract float sum(FloatVector v, float[] red);

        static Lanes of(VectorShape shape) {
            return switch (shape) {
                case S_64_BIT -> new Lanes64();
                case S_128_BIT -> new Lanes128();
                case S_256_BIT -> new Lanes256();
                case S_512_BIT -> new Lanes512();
                case S_Max_BIT -> new LanesMax();
            };
        }
    }

    private static final class Lanes64 extends Lanes {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_64;
        private static final VectorSpecies<Double> D = DoubleVector.SPECIES_64;
        private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);

        @Override
        VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        VectorSpecies<Double> doubles() {
            return D;
        }

        @Override
        float sum(FloatVector v, float[] red) {
            v = v.add(v.rearrange(X1));
            return v.lane(0);
        }
    }

    private static final class Lanes128 extends Lanes {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
        private static final VectorSpecies<Double> D = DoubleVector.SPECIES_128;
        private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ 2);
        private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);

        @Override
        VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        VectorSpecies<Double> doubles() {
            return D;
        }

        @Override
        float sum(FloatVector v, float[] red) {
            v = v.add(v.rearrange(X2));
            v = v.add(v.rearrange(X1));
            return v.lane(0);
        }
    }

    private static final class Lanes256 extends Lanes {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
        private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;
        private static final VectorShuffle<Float> X4 = VectorShuffle.fromOp(F, i -> i ^ 4);
        private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ 2);
        private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);

        @Override
        VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        VectorSpecies<Double> doubles() {
            return D;
        }

        @Override
        float sum(FloatVector v, float[] red) {
            v = v.add(v.rearrange(X4));
            v = v.add(v.rearrange(X2));
            v = v.add(v.rearrange(X1));
            return v.lane(0);
        }
    }

    private static final class Lanes512 extends Lanes {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
        private static final VectorSpecies<Double> D = DoubleVector.SPECIES_512;
        private static final VectorShuffle<Float> X8 = VectorShuffle.fromOp(F, i -> i ^ 8);
        private static final VectorShuffle<Float> X4 = VectorShuffle.fromOp(F, i -> i ^ 4);
        private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ 2);
        private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);

        @Override
        VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        VectorSpecies<Double> doubles() {
            return D;
        }

        @Override
        float sum(FloatVector v, float[] red) {
            v = v.add(v.rearrange(X8));
            v = v.add(v.rearrange(X4));
            v = v.add(v.rearrange(X2));
            v = v.add(v.rearrange(X1));
            return v.lane(0);
        }
    }

    private static final class LanesMax extends Lanes {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_MAX;
        private static final VectorSpecies<Double> D = DoubleVector.SPECIES_MAX;

        @Override
        VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        VectorSpecies<Double> doubles() {
            return D;
        }

        /** The lane count is only known at run time here, so the tree goes through memory. */
        @Override
        float sum(FloatVector v, float[] red) {
            return sumLanes(v, red);
        }
    }
}
