package dev.mue.backend.java.kernels;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
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
 * result may differ by an ulp between the intrinsic and the fallback. Elementwise tails run either
 * masked, through the same lanewise operations, or as scalar code repeating them one for one, so an
 * element's value does not depend on whether it falls in a full vector.
 *
 * <p>Speed. The Vector API compiles to SIMD only when the species is a compile-time constant, so
 * the species lives in a static final field of a small per-shape class ({@link Lanes}); the hot
 * loops read it through a call that the JIT inlines as long as a process uses one shape. Vectors
 * never cross a call that the JIT might not inline (helpers take arrays), since that boxes them.
 *
 * <p>Instances are immutable and thread-safe; the pool is the caller's and is never shut down here.
 */
public final class JvVectorKernels implements JvKernels {
    /** Rows of a GEMM register block: each loaded {@code w} vector is reused this many times. */
    private static final int MR = 4;
    /** Columns of a GEMM register block: each loaded {@code x} vector is reused this many times. */
    private static final int NR = 3;
    /**
     * Below this many multiply-adds (about 50 us on one core) a GEMM or convolution runs on the
     * calling thread: waking pool threads costs several microseconds, more than smaller calls gain.
     * Package-private so that tests can size their shapes to reach the parallel path.
     */
    static final long PARALLEL_MACS = 1L << 21;
    /** Floats of {@code w} rows one column tile spans, sized to stay in L2 while row blocks reuse it. */
    private static final int TILE_FLOATS = 1 << 15;
    /** Floats of one im2col block, sized like a GEMM column tile. */
    private static final int IM2COL_FLOATS = 1 << 15;
    /** Elements summed in float lanes before a partial sum is added in double (layerNorm, cosine). */
    private static final int SUM_BLOCK = 64;

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
     * Package-private so that no incubator type appears in the exported API (the module does not
     * {@code requires transitive jdk.incubator.vector}).
     *
     * @param pool the caller's pool for large GEMMs and convolutions, or null to stay on the calling thread
     */
    JvVectorKernels(VectorSpecies<Float> species, ForkJoinPool pool) {
        Objects.requireNonNull(species, "species");
        if (species.elementType() != float.class) {
            throw new IllegalArgumentException("not a float species: " + species);
        }
        this.lanes = Lanes.of(species.vectorShape());
        this.pool = pool;
    }

    /** The float species the kernels run on. */
    VectorSpecies<Float> species() {
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
        // A few tasks per thread for balance; columns first, since the weights dominate the memory traffic.
        int target = par * 3;
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
        float[] red = new float[MR * NR * lanes.floats().length()];
        float[] sums = new float[MR * NR];
        int tile = Math.max(NR, TILE_FLOATS / Math.max(k, 1) / NR * NR);
        for (int ct = c0; ct < c1; ct += tile) {
            int ce = Math.min(c1, ct + tile);
            int r = r0;
            for (; r + MR <= r1; r += MR) {
                int c = ct;
                for (; c + NR <= ce; c += NR) {
                    block4x3(a, aOff + r * k, k, b, bOff + c * k, bias, c, y, yOff + r * ldy + c, ldy, red, sums);
                }
                for (; c < ce; c++) {
                    block4x1(a, aOff + r * k, k, b, bOff + c * k, bias, c, y, yOff + r * ldy + c, ldy, red, sums);
                }
            }
            for (; r < r1; r++) {
                int c = ct;
                for (; c + NR <= ce; c += NR) {
                    block1x3(a, aOff + r * k, k, b, bOff + c * k, bias, c, y, yOff + r * ldy + c, red, sums);
                }
                for (; c < ce; c++) {
                    float s = dot(a, aOff + r * k, b, bOff + c * k, k, red, sums);
                    y[yOff + r * ldy + c] = bias == null ? s : s + bias[c];
                }
            }
        }
    }

    /*
     * The register blocks below only accumulate and store their lane accumulators; the horizontal
     * sums (Lanes.sums) and the scalar finish (finishBlock) take arrays, not vectors. Passing vectors
     * to a call that the JIT does not inline boxes them, and a block with a dozen inlined reductions
     * exceeds the JIT's inlining node budget, so this split keeps every vector in a register.
     */

    /** Four rows by three columns; rows of {@code a} and {@code b} are {@code k} apart. */
    private void block4x3(float[] a, int a0, int k, float[] b, int b0, float[] bias, int col, float[] y, int y0,
            int ldy, float[] red, float[] sums) {
        VectorSpecies<Float> sp = lanes.floats();
        int len = sp.length();
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
        for (int i = 0; i < kv; i += len) {
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
        s00.intoArray(red, 0);
        s01.intoArray(red, len);
        s02.intoArray(red, 2 * len);
        s10.intoArray(red, 3 * len);
        s11.intoArray(red, 4 * len);
        s12.intoArray(red, 5 * len);
        s20.intoArray(red, 6 * len);
        s21.intoArray(red, 7 * len);
        s22.intoArray(red, 8 * len);
        s30.intoArray(red, 9 * len);
        s31.intoArray(red, 10 * len);
        s32.intoArray(red, 11 * len);
        lanes.sums(red, 12, sums);
        finishBlock(sums, 4, 3, a, a0, b, b0, kv, k, bias, col, y, y0, ldy);
    }

    /** Four rows by one column, for the columns left over from {@link #block4x3}. */
    private void block4x1(float[] a, int a0, int k, float[] b, int b0, float[] bias, int col, float[] y, int y0,
            int ldy, float[] red, float[] sums) {
        VectorSpecies<Float> sp = lanes.floats();
        int len = sp.length();
        int kv = sp.loopBound(k);
        int a1 = a0 + k;
        int a2 = a1 + k;
        int a3 = a2 + k;
        FloatVector s0 = FloatVector.zero(sp);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        for (int i = 0; i < kv; i += len) {
            FloatVector w = FloatVector.fromArray(sp, b, b0 + i);
            s0 = FloatVector.fromArray(sp, a, a0 + i).fma(w, s0);
            s1 = FloatVector.fromArray(sp, a, a1 + i).fma(w, s1);
            s2 = FloatVector.fromArray(sp, a, a2 + i).fma(w, s2);
            s3 = FloatVector.fromArray(sp, a, a3 + i).fma(w, s3);
        }
        s0.intoArray(red, 0);
        s1.intoArray(red, len);
        s2.intoArray(red, 2 * len);
        s3.intoArray(red, 3 * len);
        lanes.sums(red, 4, sums);
        finishBlock(sums, 4, 1, a, a0, b, b0, kv, k, bias, col, y, y0, ldy);
    }

    /** One row by three columns, for the rows left over from {@link #block4x3}. */
    private void block1x3(float[] a, int a0, int k, float[] b, int b0, float[] bias, int col, float[] y, int y0,
            float[] red, float[] sums) {
        VectorSpecies<Float> sp = lanes.floats();
        int len = sp.length();
        int kv = sp.loopBound(k);
        int b1 = b0 + k;
        int b2 = b1 + k;
        FloatVector s0 = FloatVector.zero(sp);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        for (int i = 0; i < kv; i += len) {
            FloatVector x = FloatVector.fromArray(sp, a, a0 + i);
            s0 = x.fma(FloatVector.fromArray(sp, b, b0 + i), s0);
            s1 = x.fma(FloatVector.fromArray(sp, b, b1 + i), s1);
            s2 = x.fma(FloatVector.fromArray(sp, b, b2 + i), s2);
        }
        s0.intoArray(red, 0);
        s1.intoArray(red, len);
        s2.intoArray(red, 2 * len);
        lanes.sums(red, 3, sums);
        finishBlock(sums, 1, 3, a, a0, b, b0, kv, k, bias, col, y, y0, 0);
    }

    /**
     * The dot product of {@code n} floats in the canonical order: lane accumulators, halving tree,
     * scalar tail. Every register block above performs exactly these operations per element.
     */
    private float dot(float[] a, int a0, float[] b, int b0, int n, float[] red, float[] sums) {
        VectorSpecies<Float> sp = lanes.floats();
        int nv = sp.loopBound(n);
        FloatVector s = FloatVector.zero(sp);
        for (int i = 0; i < nv; i += sp.length()) {
            s = FloatVector.fromArray(sp, a, a0 + i).fma(FloatVector.fromArray(sp, b, b0 + i), s);
        }
        s.intoArray(red, 0);
        lanes.sums(red, 1, sums);
        return tail(sums[0], a, a0, b, b0, nv, n);
    }

    /**
     * Completes a {@code rows x cols} register block from its lane sums ({@code sums[r * cols + c]}):
     * folds in the scalar tail, adds the bias and stores.
     */
    private static void finishBlock(float[] sums, int rows, int cols, float[] a, int a0, float[] b, int b0, int kv,
            int k, float[] bias, int col, float[] y, int y0, int ldy) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float s = tail(sums[r * cols + c], a, a0 + r * k, b, b0 + c * k, kv, k);
                y[y0 + r * ldy + c] = bias == null ? s : s + bias[col + c];
            }
        }
    }

    /** Folds the scalar tail {@code [kv, k)} of a dot product into its lane sum {@code s}, in index order. */
    private static float tail(float s, float[] a, int a0, float[] b, int b0, int kv, int k) {
        for (int i = kv; i < k; i++) {
            s = Math.fma(a[a0 + i], b[b0 + i], s);
        }
        return s;
    }

    /**
     * Sums each of {@code n} stored lane vectors ({@code len} floats apart in {@code red}) by the
     * halving tree, {@code x[i] += x[i + w]} for {@code w = len/2, ..., 1}: the reference that
     * {@link Lanes#sums} reproduces in registers.
     */
    private static void treeSums(float[] red, int len, int n, float[] out) {
        for (int j = 0; j < n; j++) {
            int base = j * len;
            for (int w = len >> 1; w > 0; w >>= 1) {
                for (int i = 0; i < w; i++) {
                    red[base + i] += red[base + i + w];
                }
            }
            out[j] = red[base];
        }
    }

    // ---------------------------------------------------------------- layerNorm

    /**
     * {@inheritDoc}
     *
     * <p>Mean and variance (two passes, so the variance sums squares of centred values) are
     * accumulated per block of {@value #SUM_BLOCK} elements in float lanes, summed by the halving
     * tree, and the block sums added in double, which keeps them close to the double control's at any
     * width. The final {@code (x - mean) * inv * gamma + beta} runs in float, a few ulps of its terms
     * from the control.
     */
    @Override
    public void layerNorm(float[] x, int xOff, int rows, int dim, float[] gamma, float[] beta, float eps, float[] y,
            int yOff) {
        VectorSpecies<Float> sp = lanes.floats();
        int len = sp.length();
        int dv = sp.loopBound(dim);
        int block = Math.max(len, SUM_BLOCK / len * len);
        float[] red = new float[len];
        float[] sums = new float[1];
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * dim;
            int yo = yOff + r * dim;
            double sum = 0;
            for (int b0 = 0; b0 < dv; b0 += block) {
                FloatVector acc = FloatVector.zero(sp);
                for (int i = b0, be = Math.min(dv, b0 + block); i < be; i += len) {
                    acc = acc.add(FloatVector.fromArray(sp, x, xo + i));
                }
                acc.intoArray(red, 0);
                lanes.sums(red, 1, sums);
                sum += sums[0];
            }
            for (int i = dv; i < dim; i++) {
                sum += x[xo + i];
            }
            float mean = (float) (sum / dim);
            double sq = 0;
            for (int b0 = 0; b0 < dv; b0 += block) {
                FloatVector acc = FloatVector.zero(sp);
                for (int i = b0, be = Math.min(dv, b0 + block); i < be; i += len) {
                    FloatVector d = FloatVector.fromArray(sp, x, xo + i).sub(mean);
                    acc = d.fma(d, acc);
                }
                acc.intoArray(red, 0);
                lanes.sums(red, 1, sums);
                sq += sums[0];
            }
            for (int i = dv; i < dim; i++) {
                double d = x[xo + i] - mean;
                sq += d * d;
            }
            float inv = (float) (1 / Math.sqrt(sq / dim + eps));
            // Centre on the double mean as two floats, so that its rounding does not shift the output.
            float meanLo = (float) (sum / dim - mean);
            // The scalar tail repeats the lanewise operations (sub, sub, mul, mul, add) one for one.
            for (int i = 0; i < dv; i += len) {
                FloatVector v = FloatVector.fromArray(sp, x, xo + i).sub(mean).sub(meanLo).mul(inv);
                v.mul(FloatVector.fromArray(sp, gamma, i)).add(FloatVector.fromArray(sp, beta, i)).intoArray(y, yo + i);
            }
            for (int i = dv; i < dim; i++) {
                y[yo + i] = (x[xo + i] - mean - meanLo) * inv * gamma[i] + beta[i];
            }
        }
    }

    // ---------------------------------------------------------------- gelu and exp

    /*
     * exp(a + b) is built from lanewise arithmetic: n = round((a + b) / ln 2) by the 1.5 * 2^23 trick,
     * r = (a - n ln2_hi) - n ln2_lo + b (exact in its first step, so a may be large while b carries a
     * small correction), the Cephes expf polynomial on r, and the scale 2^n assembled in the exponent
     * bits. Results below 2^-126 are flushed to zero. The sequence is written out in gelu and in
     * softmaxExp rather than shared: a helper taking and returning vectors boxes them whenever the
     * JIT declines to inline it, which costs far more than the computation.
     */

    /**
     * {@inheritDoc}
     *
     * <p>Computed in float as {@code x (1 - e)} for {@code x >= 0} and {@code x e} below, where
     * {@code e = erfc(|x| / sqrt 2) / 2} comes from a rational-exponential erfc approximation with
     * relative error under 1.2e-7 (so erf is within 1.2e-7 absolute), with {@code x^2} split exactly
     * into two floats so that {@code exp(-x^2/2)} loses nothing for large {@code |x|}. The relative
     * error is below about 5e-7 wherever the result is a normal float; below {@code x = -13.2}, where
     * it would be subnormal, it is flushed to zero. The last partial vector is processed masked, by
     * the same lanewise operations.
     */
    @Override
    public void gelu(float[] x, int off, int len) {
        VectorSpecies<Float> sp = lanes.floats();
        int end = off + len;
        for (int i = off; i < end; i += sp.length()) {
            VectorMask<Float> m = sp.indexInRange(i, end);
            FloatVector xv = FloatVector.fromArray(sp, x, i, m);
            FloatVector ax = xv.abs().min(GELU_CLAMP);
            // t = 1 / (1 + z/2), z = |x| / sqrt 2; p = ERFC_C0 + t (ERFC_C1 + t (...)).
            FloatVector one = FloatVector.broadcast(sp, 1f);
            FloatVector t = one.div(ax.fma(HALF_SQRT_HALF, 1f));
            FloatVector p = t.fma(ERFC_C9, ERFC_C8);
            p = p.fma(t, p.broadcast(ERFC_C7));
            p = p.fma(t, p.broadcast(ERFC_C6));
            p = p.fma(t, p.broadcast(ERFC_C5));
            p = p.fma(t, p.broadcast(ERFC_C4));
            p = p.fma(t, p.broadcast(ERFC_C3));
            p = p.fma(t, p.broadcast(ERFC_C2));
            p = p.fma(t, p.broadcast(ERFC_C1));
            p = p.fma(t, p.broadcast(ERFC_C0));
            // z^2 = x^2 / 2 = hi + lo exactly; exp(a + b) with a = -hi, b = p - lo.
            FloatVector x2 = ax.mul(ax);
            FloatVector a = x2.mul(-0.5f).max(EXP_CLAMP);
            FloatVector b = p.sub(ax.fma(ax, x2.neg()).mul(0.5f));
            FloatVector s = a.add(b);
            FloatVector fx = s.fma(LOG2E, ROUND_MAGIC);
            FloatVector n = fx.sub(ROUND_MAGIC);
            FloatVector r = n.fma(n.broadcast(-LN2_HI), a).sub(n.mul(LN2_LO)).add(b);
            FloatVector q = r.fma(EXP_P0, EXP_P1);
            q = q.fma(r, q.broadcast(EXP_P2));
            q = q.fma(r, q.broadcast(EXP_P3));
            q = q.fma(r, q.broadcast(EXP_P4));
            q = q.fma(r, q.broadcast(EXP_P5));
            FloatVector scale = fx.reinterpretAsInts().sub(ROUND_MAGIC_BITS - 127).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats();
            FloatVector ex = q.fma(r.mul(r), r).add(1f).mul(scale).blend(0f, s.compare(VectorOperators.LT, EXP_MIN));
            FloatVector e = ex.mul(t).mul(0.5f);
            FloatVector y = xv.mul(e).blend(xv.mul(one.sub(e)), xv.compare(VectorOperators.GE, 0f));
            y.intoArray(x, i, m);
        }
    }

    /**
     * {@code s[j] = exp(s[j] - max)} for {@code j < n}, then returns their sum (lane accumulators,
     * halving tree): the numerators of a softmax. Same exp as {@link #gelu}, with {@code b = 0}.
     */
    private float softmaxExp(float[] s, int n, float max, float[] red, float[] sums) {
        VectorSpecies<Float> sp = lanes.floats();
        FloatVector acc = FloatVector.zero(sp);
        for (int j = 0; j < n; j += sp.length()) {
            VectorMask<Float> m = sp.indexInRange(j, n);
            FloatVector a = FloatVector.fromArray(sp, s, j, m).sub(max).max(EXP_CLAMP);
            FloatVector fx = a.fma(LOG2E, ROUND_MAGIC);
            FloatVector k = fx.sub(ROUND_MAGIC);
            FloatVector r = k.fma(k.broadcast(-LN2_HI), a).sub(k.mul(LN2_LO));
            FloatVector q = r.fma(EXP_P0, EXP_P1);
            q = q.fma(r, q.broadcast(EXP_P2));
            q = q.fma(r, q.broadcast(EXP_P3));
            q = q.fma(r, q.broadcast(EXP_P4));
            q = q.fma(r, q.broadcast(EXP_P5));
            FloatVector scale = fx.reinterpretAsInts().sub(ROUND_MAGIC_BITS - 127).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats();
            FloatVector ex = q.fma(r.mul(r), r).add(1f).mul(scale).blend(0f, a.compare(VectorOperators.LT, EXP_MIN));
            ex.intoArray(s, j, m);
            acc = acc.add(ex, m);
        }
        acc.intoArray(red, 0);
        lanes.sums(red, 1, sums);
        return sums[0];
    }

    // ---------------------------------------------------------------- attention

    /**
     * {@inheritDoc}
     *
     * <p>Scores are dot products along {@code headDim} in the canonical order; the softmax subtracts
     * the row maximum and uses the lanewise exp of {@link #gelu} (about an ulp from {@link Math#exp});
     * {@code p . V} accumulates one lane vector per {@code headDim} chunk with fused multiply-adds in
     * key order. Queries are independent, so a row gives the same bits alone or in a batch.
     */
    @Override
    public void attention(float[] q, int qOff, int qStride, float[] k, int kOff, int kStride, float[] v, int vOff,
            int vStride, int nq, int nk, int headDim, float[] bias, int biasOff, int biasStride, boolean causal,
            int causalOffset, float[] out, int outOff, int outStride, float[] scratch) {
        VectorSpecies<Float> sp = lanes.floats();
        int len = sp.length();
        int cv = sp.loopBound(headDim);
        float[] red = new float[len];
        float[] sums = new float[1];
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
                float s = dot(q, qo, k, kOff + j * kStride, headDim, red, sums);
                if (bias != null) {
                    s += bias[biasOff + i * biasStride + j];
                }
                scratch[j] = s;
                max = Math.max(max, s);
            }
            float sum = softmaxExp(scratch, limit, max, red, sums);
            FloatVector sumb = FloatVector.broadcast(sp, sum);
            int j = 0;
            for (int bound = sp.loopBound(limit); j < bound; j += len) {
                FloatVector.fromArray(sp, scratch, j).div(sumb).intoArray(scratch, j);
            }
            for (; j < limit; j++) {
                scratch[j] = scratch[j] / sum;
            }
            int c = 0;
            for (; c < cv; c += len) {
                FloatVector acc = FloatVector.zero(sp);
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
     * <p>Products are accumulated per block of {@value #SUM_BLOCK} elements in float lanes, summed by
     * the halving tree, and the block sums added in double, in a fixed order: deterministic, and
     * within a few 1e-8 of the all-double control.
     */
    @Override
    public double cosine(float[] a, int aOff, float[] b, int bOff, int len) {
        VectorSpecies<Float> sp = lanes.floats();
        int lanesN = sp.length();
        int nv = sp.loopBound(len);
        int block = Math.max(lanesN, SUM_BLOCK / lanesN * lanesN);
        float[] red = new float[3 * lanesN];
        float[] sums = new float[3];
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int b0 = 0; b0 < nv; b0 += block) {
            FloatVector sab = FloatVector.zero(sp);
            FloatVector saa = sab;
            FloatVector sbb = sab;
            for (int i = b0, be = Math.min(nv, b0 + block); i < be; i += lanesN) {
                FloatVector x = FloatVector.fromArray(sp, a, aOff + i);
                FloatVector y = FloatVector.fromArray(sp, b, bOff + i);
                sab = x.fma(y, sab);
                saa = x.fma(x, saa);
                sbb = y.fma(y, sbb);
            }
            sab.intoArray(red, 0);
            saa.intoArray(red, lanesN);
            sbb.intoArray(red, 2 * lanesN);
            lanes.sums(red, 3, sums);
            ab += sums[0];
            aa += sums[1];
            bb += sums[2];
        }
        for (int i = nv; i < len; i++) {
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

    // ---------------------------------------------------------------- plumbing

    /**
     * Runs {@code body} for {@code 0..n-1}: on the calling thread alone without a pool, otherwise on
     * the calling thread together with up to {@code parallelism - 1} pool threads (see {@link Job}),
     * so that as many threads work as the pool is sized for, whether or not the caller is one of them.
     */
    private void forEach(int n, IntConsumer body) {
        if (pool == null || n <= 1) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        Job job = new Job(body, n);
        int helpers = Math.min(pool.getParallelism() - 1, n - 1);
        try {
            for (int h = 0; h < helpers; h++) {
                pool.execute(job);
            }
        } catch (RejectedExecutionException e) {
            // A pool that is shutting down leaves the work to the calling thread.
        }
        job.run();
        job.awaitAndRethrow();
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * One parallel loop: the calling thread and the pool threads it enlisted claim indices from a
     * shared counter until none are left. The caller never waits for a helper to start, only for
     * tasks already running elsewhere to finish, so a late or busy pool (including a call made from
     * inside the pool) costs no more than running the loop alone, and cannot deadlock.
     */
    private static final class Job implements Runnable {
        private final IntConsumer body;
        private final int n;
        private final Thread caller = Thread.currentThread();
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(IntConsumer body, int n) {
            this.body = body;
            this.n = n;
        }

        @Override
        public void run() {
            for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                try {
                    if (failure.get() == null) {
                        body.accept(i);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == n) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }

        /** Waits for the tasks other threads are still running, then rethrows the first failure. */
        void awaitAndRethrow() {
            while (done.get() < n) {
                LockSupport.park(this);
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }

    /**
     * Holds the species as a compile-time constant: one final subclass per vector shape, each with
     * its species in a static final field. As long as a process uses one shape the JIT sees a single
     * receiver class, inlines {@link #floats()}, and so compiles the loops to SIMD instructions.
     */
    private abstract static sealed class Lanes permits Lanes64, Lanes128, Lanes256, Lanes512, LanesMax {
        abstract VectorSpecies<Float> floats();

        /**
         * Sums each of {@code n} lane vectors stored {@code floats().length()} apart in {@code red}
         * into {@code out}, bitwise as {@link JvVectorKernels#treeSums}: a butterfly
         * {@code v + v.rearrange(i -> i ^ w)} for halving {@code w} leaves in lane 0 exactly the
         * tree's partial sums. {@code red} may be overwritten.
         */
        abstract void sums(float[] red, int n, float[] out);

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
        private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);

        @Override
        VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        void sums(float[] red, int n, float[] out) {
            for (int j = 0; j < n; j++) {
                FloatVector v = FloatVector.fromArray(F, red, j * F.length());
                v = v.add(v.rearrange(X1));
                out[j] = v.lane(0);
            }
        }
    }

    private static final class Lanes128 extends Lanes {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
        private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ 2);
        private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);

        @Override
        VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        void sums(float[] red, int n, float[] out) {
            for (int j = 0; j < n; j++) {
                FloatVector v = FloatVector.fromArray(F, red, j * F.length());
                v = v.add(v.rearrange(X2));
                v = v.add(v.rearrange(X1));
                out[j] = v.lane(0);
            }
        }
    }

    private static final class Lanes256 extends Lanes {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
        private static final VectorShuffle<Float> X4 = VectorShuffle.fromOp(F, i -> i ^ 4);
        private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ 2);
        private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);

        @Override
        VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        void sums(float[] red, int n, float[] out) {
            for (int j = 0; j < n; j++) {
                FloatVector v = FloatVector.fromArray(F, red, j * F.length());
                v = v.add(v.rearrange(X4));
                v = v.add(v.rearrange(X2));
                v = v.add(v.rearrange(X1));
                out[j] = v.lane(0);
            }
        }
    }

    private static final class Lanes512 extends Lanes {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
        private static final VectorShuffle<Float> X8 = VectorShuffle.fromOp(F, i -> i ^ 8);
        private static final VectorShuffle<Float> X4 = VectorShuffle.fromOp(F, i -> i ^ 4);
        private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ 2);
        private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);

        @Override
        VectorSpecies<Float> floats() {
            return F;
        }

        @Override
        void sums(float[] red, int n, float[] out) {
            for (int j = 0; j < n; j++) {
                FloatVector v = FloatVector.fromArray(F, red, j * F.length());
                v = v.add(v.rearrange(X8));
                v = v.add(v.rearrange(X4));
                v = v.add(v.rearrange(X2));
                v = v.add(v.rearrange(X1));
                out[j] = v.lane(0);
            }
        }
    }

    private static final class LanesMax extends Lanes {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_MAX;

        @Override
        VectorSpecies<Float> floats() {
            return F;
        }

        /** The lane count is only known at run time here, so the tree stays in memory. */
        @Override
        void sums(float[] red, int n, float[] out) {
            treeSums(red, F.length(), n, out);
        }
    }
}
