package dev.mue.backend.java.kernels;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast {@link JvKernels}: Vector API loops whose matrix products (linear layers, convolutions,
 * attention scores and their products with the values) all run on one register-blocked
 * outer-product {@link JvMicroKernel}, optionally spread over a caller-owned {@link ForkJoinPool}
 * by {@link JvParallel}.
 *
 * <p>Determinism. Every output element is computed by one fixed sequence of IEEE operations that
 * depends only on the reduction length and the species, never on the row count, the offsets, the
 * tile an element falls in or the thread count. A matrix product's element is
 * {@code acc = fma(a_i, b_i, acc)} for {@code i} in order from zero (a long reduction is split into
 * blocks whose partial sums are stored and reloaded exactly, which continues the same sequence),
 * then its epilogue (bias, BatchNorm affine, residual, ReLU) lane by lane. The sums of layerNorm,
 * cosine and softmax use lane accumulators summed by a fixed halving tree ({@code lane[i] +=
 * lane[i + w]} for {@code w = L/2, L/4, ..., 1}); {@code reduceLanes(ADD)} is deliberately not
 * used: its summation order is unspecified and may differ between the interpreter and compiled
 * code. Transcendentals ({@code exp} in softmax and GELU) are likewise built from lanewise
 * arithmetic rather than the {@code EXP} operator, whose result may differ by an ulp between the
 * intrinsic and the fallback. Elementwise tails run either masked, through the same lanewise
 * operations, or as scalar code repeating them one for one, so an element's value does not depend
 * on whether it falls in a full vector. The one exception to the fused multiply-add chain is a
 * 3x3 convolution of stride 1 over at least {@value #WINOGRAD_MIN_CHANNELS} input channels (see
 * {@link #packConv(float[], int, int, int, int, int)}): it runs as Winograd's F(2x2, 3x3), whose
 * fixed sequence of operations differs from the chain's by rounding only, and is just as
 * deterministic.
 *
 * <p>Speed. Weights are packed once ({@link #packLinear}, {@link #packConv}) into panels of the
 * micro-kernel's width; a long reduction is cut into blocks whose panel slice stays in the L2
 * cache while row tiles stream past it. Convolutions read their receptive fields in place from a
 * channels-last image (one contiguous run per row of the field), with no im2col copy. Attention
 * transposes each head's keys once ({@link #keys}) and works on tiles of six queries: their scores
 * against all keys (a tile-sized scratch, never the {@code [queries, keys]} matrix), the softmax,
 * then the product with the values, all through the micro-kernel. The Vector API compiles to SIMD
 * only when the species is a compile-time constant, so the micro-kernels and the few vector loops
 * here read it from static final fields (see {@link JvMicroKernel} and {@link Lanes}); vectors never
 * cross a call that the JIT might not inline, since that boxes them.
 *
 * <p>Instances are immutable and thread-safe; the pool is the caller's and is never shut down here.
 */
public final class JvVectorKernels implements JvKernels {
    /**
     * Below this many multiply-adds (about 10 us on one core) a matrix product runs on the calling
     * thread: waking pool threads costs several microseconds, more than smaller calls gain.
     * Package-private so that tests can size their shapes to reach the parallel path.
     */
    static final long PARALLEL_MACS = 1L << 21;
    /** Floats of one panel slice (a reduction block of a packed panel), sized to stay in L2. */
    private static final int PANEL_BLOCK_FLOATS = 1 << 16;
    /** Floats of packed weights that stay in L2 while a task's rows pass them all (see {@link #gemm}). */
    private static final int WEIGHTS_IN_L2_FLOATS = 1 << 17;
    /**
     * Tasks per thread in a parallel product, so that a late or slowed thread leaves a short tail.
     * Each panel task reads its rows again and each row task its panels' weights, so {@link #gemm}
     * splits the side that costs less to read again.
     */
    private static final int TASKS_PER_THREAD = 8;
    /**
     * From this many queries per call, {@link #attention} copies the values into contiguous rows
     * first: the copy costs about {@code 1 / (2 nq)} of the call's products.
     */
    private static final int PACK_VALUES_QUERIES = 16;
    /** Image rows per task of {@link #padded}. */
    private static final int PAD_ROWS = 32;
    /**
     * From this many input channels a 3x3 convolution of stride 1 runs as Winograd's F(2x2, 3x3):
     * 2.25 times fewer multiply-adds, in 16 products whose reduction runs over the channels, plus
     * transforms that cost about as much as reading and writing the feature map four times. On two
     * threads of a Zen 4 machine, ResNet's shapes, direct time over Winograd's: 30x30x256 1.86,
     * 60x60x128 1.54, 120x120x64 1.08 (so 64 channels keep the exact chain, for a gain within the
     * host's noise).
     */
    static final int WINOGRAD_MIN_CHANNELS = 128;
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
    private final JvMicroKernel micro;
    private final JvParallel parallel;
    private final JvBuffers buffers;

    /**
     * Kernels on {@link FloatVector#SPECIES_PREFERRED}.
     *
     * @param pool the caller's pool for large matrix products, or null to stay on the calling thread
     */
    public JvVectorKernels(ForkJoinPool pool) {
        this(FloatVector.SPECIES_PREFERRED, new JvParallel(pool), JvBuffers.none());
    }

    /**
     * Kernels on {@link FloatVector#SPECIES_PREFERRED} whose large products run on {@code parallel}
     * (shared with the caller's own loops, so that they share its helpers), and that take their
     * large scratch arrays (the zero-bordered copy a padded convolution reads) from {@code buffers}
     * and give them back.
     *
     * @param parallel the loops large products run on
     * @param buffers  where scratch arrays come from
     */
    public JvVectorKernels(JvParallel parallel, JvBuffers buffers) {
        this(FloatVector.SPECIES_PREFERRED, Objects.requireNonNull(parallel, "parallel"), buffers);
    }

    /**
     * Kernels on a given float species, for tests that force a narrower vector than the preferred one.
     * Package-private so that no incubator type appears in the exported API (the module does not
     * {@code requires transitive jdk.incubator.vector}).
     *
     * @param pool the caller's pool for large matrix products, or null to stay on the calling thread
     */
    JvVectorKernels(VectorSpecies<Float> species, ForkJoinPool pool) {
        this(species, new JvParallel(pool), JvBuffers.none());
    }

    private JvVectorKernels(VectorSpecies<Float> species, JvParallel parallel, JvBuffers buffers) {
        Objects.requireNonNull(species, "species");
        this.buffers = Objects.requireNonNull(buffers, "buffers");
        if (species.elementType() != float.class) {
            throw new IllegalArgumentException("not a float species: " + species);
        }
        this.lanes = Lanes.of(species.vectorShape());
        this.micro = JvMicroKernel.of(species);
        this.parallel = parallel;
    }

    /** The float species the kernels run on. */
    VectorSpecies<Float> species() {
        return lanes.floats();
    }

    /** The micro-kernel the matrix products run on. */
    JvMicroKernel micro() {
        return micro;
    }

    @Override
    public String name() {
        return "vector";
    }

    /** The name, the micro-kernel and the lanes, for logs. */
    @Override
    public String toString() {
        return name() + " (" + micro + ", " + lanes.floats().length() + " float lanes)";
    }

    // ---------------------------------------------------------------- packing

    @Override
    public JvWeights packLinear(float[] w, int out, int in) {
        JvWeights.check(w, out, in, 1);
        return new JvWeights(null, out, in, 1, micro, pack(w, out, in, null), micro.width());
    }

    /**
     * {@inheritDoc}
     *
     * <p>The reduction runs over {@code (ky, kx, ic)}, input channels innermost, the order in which a
     * channels-last receptive field lies in memory.
     */
    @Override
    public JvWeights packConv(float[] w, int out, int inC, int kernel) {
        JvWeights.check(w, out, inC, kernel);
        int taps = kernel * kernel;
        int[] column = new int[inC * taps];
        for (int t = 0; t < taps; t++) {
            for (int ic = 0; ic < inC; ic++) {
                column[t * inC + ic] = ic * taps + t;
            }
        }
        return new JvWeights(null, out, inC, kernel, micro, pack(w, out, inC * taps, column), micro.width());
    }

    /**
     * {@inheritDoc}
     *
     * <p>A 3x3 kernel of stride 1 and padding 1 over at least {@value #WINOGRAD_MIN_CHANNELS} input
     * channels is kept in Winograd's domain only (16/9 of the floats) and runs as F(2x2, 3x3); any
     * other is packed as {@link #packConv(float[], int, int, int)} packs it.
     */
    @Override
    public JvWeights packConv(float[] w, int out, int inC, int kernel, int stride, int pad) {
        if (kernel != 3 || stride != 1 || pad != 1 || inC < WINOGRAD_MIN_CHANNELS) {
            return packConv(w, out, inC, kernel);
        }
        JvWeights.check(w, out, inC, kernel);
        float[][] u = winogradWeights(w, out, inC);
        JvWeights[] points = new JvWeights[WINOGRAD_POINTS];
        for (int xi = 0; xi < WINOGRAD_POINTS; xi++) {
            points[xi] = new JvWeights(null, out, inC, 1, micro, pack(u[xi], out, inC, null), micro.width());
        }
        return new JvWeights(null, out, inC, kernel, micro, null, micro.width(), points);
    }

    /**
     * The rows of {@code w[out, k]} (their elements permuted by {@code column} when given) as
     * panels of {@code width} outputs, {@code [k][width]} each, the last one zero-padded.
     */
    private float[] pack(float[] w, int out, int k, int[] column) {
        int width = micro.width();
        int panels = ceilDiv(out, width);
        long size = (long) panels * k * width;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("weights of " + out + "x" + k + " are too large to pack");
        }
        float[] p = new float[(int) size];
        IntConsumer packPanel = pi -> {
            // Written in order; the panel's rows are read as many streams, each line used for 16 i.
            int base = pi * k * width;
            int cols = Math.min(width, out - pi * width);
            int src = pi * width * k;
            for (int i = 0; i < k; i++) {
                int col = column == null ? i : column[i];
                int o = base + i * width;
                for (int c = 0; c < cols; c++) {
                    p[o + c] = w[src + c * k + col];
                }
            }
        };
        if (size < PARALLEL_MACS) {
            for (int pi = 0; pi < panels; pi++) {
                packPanel.accept(pi);
            }
        } else {
            parallel.forEach(panels, packPanel);
        }
        return p;
    }

    // ---------------------------------------------------------------- matrix products

    @Override
    public void linear(float[] x, int xOff, int rows, JvWeights w, float[] bias, float[] y, int yOff) {
        w.requireOwner(micro);
        if (rows <= 0) {
            return;
        }
        gemm(Source.rows(x, xOff, w.in()), rows, w, bias == null ? null : new Epilogue(null, bias, null, false), y,
                yOff);
    }

    /**
     * The left operand of a product: row {@code r}'s element {@code i} is {@code a[aOff + r * lda + i]}
     * (row-major), or, for a convolution, {@code a[base(r) + shift[i / run] + i]} where output pixel
     * {@code r}'s receptive field starts at {@code base(r)} in a channels-last (padded) image.
     */
    private record Source(float[] a, int aOff, int lda, int run, int[] shift, int outW, int rowStep, int pixelStep) {
        static Source rows(float[] a, int aOff, int lda) {
            return new Source(a, aOff, lda, 0, null, 0, 0, 0);
        }

        static Source conv(float[] image, int run, int[] shift, int outW, int rowStep, int pixelStep) {
            return new Source(image, 0, 0, run, shift, outW, rowStep, pixelStep);
        }

        /** Whether the rows are a convolution's receptive fields (read run by run). */
        boolean receptiveField() {
            return shift != null;
        }

        int base(int r) {
            return receptiveField() ? (r / outW) * rowStep + (r % outW) * pixelStep : aOff + r * lda;
        }
    }

    /**
     * What is applied to each finished output, in this order: times {@code scale[c]}, plus
     * {@code shift[c]} (a bias), plus {@code residual} (laid out as the output), then ReLU.
     */
    private record Epilogue(float[] scale, float[] shift, float[] residual, boolean relu) {
    }

    /**
     * {@code y[yOff + r * n + c] = epilogue(sum_i a(r, i) * w[c, i])} for {@code rows} rows and the
     * {@code n = w.out()} columns, split into tasks over row tiles and panels when large enough.
     */
    private void gemm(Source src, int rows, JvWeights w, Epilogue epilogue, float[] y, int yOff) {
        int n = w.out();
        int k = w.in();
        int panels = ceilDiv(n, micro.width());
        int kBlock = reductionBlock(k);
        // Partial sums kept in y would overwrite a residual that is y before it is added: add a copy.
        Epilogue ep = epilogue != null && epilogue.residual() == y && (kBlock < k || yOff != 0)
                ? new Epilogue(epilogue.scale(), epilogue.shift(), Arrays.copyOf(y, rows * n), epilogue.relu())
                : epilogue;
        long macs = (long) rows * n * k;
        int threads = parallel.threads();
        if (threads <= 1 || macs < PARALLEL_MACS) {
            gemmTask(src, w, ep, y, yOff, 0, rows, 0, panels, kBlock);
            return;
        }
        // Panels first: each task then streams only its share of the weights, but every panel task
        // reads its rows of the left operand again. Where the rows are many (a 1x1 convolution at
        // high resolution), fewer panel tasks, each holding its panels' weights in L2 while its rows
        // pass, split again by rows, read less again: rows only where all the weights fit. Panels
        // and row tiles are dealt out evenly (task sizes differ by at most one), so no task is left
        // much smaller.
        int target = threads * TASKS_PER_THREAD;
        int tiles = ceilDiv(rows, JvMicroKernel.ROWS);
        int panelFirst = evenPanelTasks(panels, target);
        int panelFirstRows = Math.min(tiles, ceilDiv(target, panelFirst));
        int grouped = panelTasksInL2(panels, k, panelFirst);
        int groupedRows = Math.min(tiles, ceilDiv(target, grouped));
        // Rows read again by the extra panel tasks plus weights read again by the extra row tasks
        // (both in reads of k floats), as long as the tasks stay at least half the target.
        boolean group = (long) (grouped - 1) * rows + (long) (groupedRows - 1) * n
                < (long) (panelFirst - 1) * rows + (long) (panelFirstRows - 1) * n
                && 2 * grouped * groupedRows >= target;
        int splitPanels = group ? grouped : panelFirst;
        int splitRows = group ? groupedRows : panelFirstRows;
        parallel.forEach(splitRows * splitPanels, t -> {
            int pt = t % splitPanels;
            int rt = t / splitPanels;
            int r0 = rt * tiles / splitRows * JvMicroKernel.ROWS;
            int r1 = Math.min(rows, (rt + 1) * tiles / splitRows * JvMicroKernel.ROWS);
            gemmTask(src, w, ep, y, yOff, r0, r1, pt * panels / splitPanels, (pt + 1) * panels / splitPanels, kBlock);
        });
    }

    /**
     * How many panel tasks a product of {@code panels} panels splits into, for about {@code target}
     * tasks: {@code min(panels, target)}, or the largest count down to half of that which divides
     * the panels evenly. Tasks of 2 and 3 panels (36 panels in 16 tasks, the encoder's fused
     * query-key-value product) leave the last thread a tail of up to a whole larger task while the
     * others wait; 12 tasks of 3 panels each, split again by rows, end together.
     */
    static int evenPanelTasks(int panels, int target) {
        int most = Math.min(panels, target);
        for (int count = most; 2 * count >= most; count--) {
            if (panels % count == 0) {
                return count;
            }
        }
        return most;
    }

    /**
     * The fewest panel tasks, below {@code most}, that divide the {@code panels} panels of a
     * {@code k}-long reduction evenly with each task's packed weights within
     * {@value #WEIGHTS_IN_L2_FLOATS} floats (1 when all of them fit); {@code most} if there is none.
     */
    private int panelTasksInL2(int panels, int k, int most) {
        for (int count = 1; count < most; count++) {
            if (panels % count == 0 && (long) (panels / count) * micro.width() * k <= WEIGHTS_IN_L2_FLOATS) {
                return count;
            }
        }
        return most;
    }

    /**
     * The reduction block: a panel slice of at most {@value #PANEL_BLOCK_FLOATS} floats stays in L2
     * while every row tile of a task passes, and a tile's rows of the left operand stay in L1.
     */
    private int reductionBlock(int k) {
        int blocks = Math.max(ceilDiv(k * micro.width(), PANEL_BLOCK_FLOATS), ceilDiv(k, 1024));
        return ceilDiv(k, Math.max(1, blocks));
    }

    /**
     * Rows {@code [r0, r1)} by panels {@code [p0, p1)} of {@link #gemm}. A tile that takes the whole
     * reduction at once goes into a scratch tile, and the epilogue writes it to {@code y}: each output
     * is written once, and an epilogue's residual may be {@code y} itself, each residual value being
     * read just before its own output is written. Tiles of a reduction split into blocks keep their
     * partial sums in {@code y}.
     */
    private void gemmTask(Source src, JvWeights w, Epilogue ep, float[] y, int yOff, int r0, int r1, int p0, int p1,
            int kBlock) {
        int width = micro.width();
        int n = w.out();
        int k = w.in();
        int rows = JvMicroKernel.ROWS;
        int[] base = src.receptiveField() ? new int[rows] : null;
        int full = Math.min(p1, n / width);
        float[] scratch = kBlock >= k || p1 * width > n ? new float[rows * width] : null;
        if (kBlock >= k) {
            // One reduction block: a tile of rows meets every panel while it is in L1.
            for (int r = r0; r < r1; r += rows) {
                int m = Math.min(rows, r1 - r);
                for (int p = p0; p < full; p++) {
                    wholeTile(src, base, r, m, w, p, ep, scratch, y, yOff, (p + 1) * width);
                }
            }
        } else {
            for (int k0 = 0; k0 < k; k0 += kBlock) {
                int k1 = Math.min(k, k0 + kBlock);
                for (int p = p0; p < full; p++) {
                    for (int r = r0; r < r1; r += rows) {
                        int m = Math.min(rows, r1 - r);
                        int y0 = yOff + r * n + p * width;
                        tile(src, base, r, m, w.panels, p * k * width, width, k0, k1, y, y0, n, k0 > 0);
                        if (ep != null && k1 == k) {
                            finish(ep, y, y0, n, y, yOff, n, r, m, p * width, (p + 1) * width);
                        }
                    }
                }
            }
        }
        if (p1 * width > n) {
            // The last panel is partial: the scratch tile holds its whole width, the whole reduction at once.
            for (int r = r0; r < r1; r += rows) {
                wholeTile(src, base, r, Math.min(rows, r1 - r), w, p1 - 1, ep, scratch, y, yOff, n);
            }
        }
    }

    /**
     * Rows {@code [r, r + m)} times panel {@code p} over the whole reduction into {@code scratch}, then
     * columns up to {@code c1} into {@code y}, through the epilogue if there is one.
     */
    private void wholeTile(Source src, int[] base, int r, int m, JvWeights w, int p, Epilogue ep, float[] scratch,
            float[] y, int yOff, int c1) {
        int width = micro.width();
        int n = w.out();
        int c0 = p * width;
        tile(src, base, r, m, w.panels, p * w.in() * width, width, 0, w.in(), scratch, 0, width, false);
        if (ep != null) {
            finish(ep, scratch, 0, width, y, yOff, n, r, m, c0, c1);
            return;
        }
        for (int q = 0; q < m; q++) {
            System.arraycopy(scratch, q * width, y, yOff + (r + q) * n + c0, c1 - c0);
        }
    }

    /** Rows {@code [r, r + m)} ({@code m <= ROWS}) of {@code src} times a panel: a tile, or single rows. */
    private void tile(Source src, int[] base, int r, int m, float[] b, int b0, int ldb, int k0, int k1, float[] y,
            int y0, int ldy, boolean accumulate) {
        if (!src.receptiveField()) {
            rowsTimesPanel(src.a(), src.aOff() + r * src.lda(), src.lda(), m, b, b0, ldb, k0, k1, y, y0, ldy,
                    accumulate);
            return;
        }
        // One call per run of the receptive field that meets [k0, k1), each continuing the sums the
        // previous one stored: the same sequence of fused multiply-adds as one pass over all of i.
        for (int q = 0; q < JvMicroKernel.ROWS; q++) {
            // A short tile repeats its last row (see JvMicroKernel).
            base[q] = src.base(r + Math.min(q, m - 1));
        }
        int run = src.run();
        for (int s = k0 / run; s * run < k1; s++) {
            int i0 = Math.max(k0, s * run);
            int i1 = Math.min(k1, (s + 1) * run);
            int shift = src.shift()[s];
            boolean acc = accumulate || i0 > k0;
            if (m >= 3) {
                micro.tileAtBases(src.a(), base, shift, m, b, b0, ldb, i0, i1, y, y0, ldy, acc);
            } else {
                for (int q = 0; q < m; q++) {
                    micro.row(src.a(), base[q] + shift, b, b0, ldb, i0, i1, y, y0 + q * ldy, acc);
                }
            }
        }
    }

    /**
     * {@code m <= ROWS} row-major rows times a panel. One or two rows run as single rows: a tile that
     * repeats them would do three to six times their work to gain only the second row's latency.
     */
    private void rowsTimesPanel(float[] a, int a0, int lda, int m, float[] b, int b0, int ldb, int k0, int k1,
            float[] y, int y0, int ldy, boolean accumulate) {
        if (m >= 3) {
            micro.tile(a, a0, lda, m, b, b0, ldb, k0, k1, y, y0, ldy, accumulate);
        } else {
            for (int q = 0; q < m; q++) {
                micro.row(a, a0 + q * lda, b, b0, ldb, k0, k1, y, y0 + q * ldy, accumulate);
            }
        }
    }

    /**
     * The epilogue on rows {@code [r, r + m)}, columns {@code [c0, c1)} of {@code y} (row stride
     * {@code ldy} from {@code yOff}), from their sums: row {@code q}'s column {@code c} at {@code
     * acc[a0 + q * lda + c - c0]} ({@code acc} may be {@code y} at the same place). Each combination
     * has a loop of its own, so that no vector passes through a merge the JIT might box; the scalar
     * tails repeat the lanewise operations one for one.
     */
    private void finish(Epilogue ep, float[] acc, int a0, int lda, float[] y, int yOff, int ldy, int r, int m, int c0,
            int c1) {
        float[] scale = ep.scale();
        float[] shift = ep.shift();
        float[] res = ep.residual();
        boolean relu = ep.relu();
        for (int q = 0; q < m; q++) {
            int ao = a0 + q * lda - c0;
            int o = yOff + (r + q) * ldy;
            int ro = (r + q) * ldy;
            if (scale == null && res == null && !relu) {
                if (shift != null) {
                    addBias(acc, ao + c0, shift, c0, y, o + c0, c1 - c0);
                } else if (acc != y) {
                    System.arraycopy(acc, ao + c0, y, o + c0, c1 - c0);
                }
            } else if (scale != null && shift != null) {
                affine(acc, ao, y, o, scale, shift, res, ro, relu, c0, c1);
            } else {
                general(ep, acc, ao, y, o, ro, c0, c1);
            }
        }
    }

    /**
     * {@code y[yOff + j] = x[xOff + j] + bias[bOff + j]} for {@code j < n} ({@code y} may be {@code x}
     * at the same place).
     */
    private void addBias(float[] x, int xOff, float[] bias, int bOff, float[] y, int yOff, int n) {
        VectorSpecies<Float> sp = lanes.floats();
        int j = 0;
        for (int end = n - sp.length(); j <= end; j += sp.length()) {
            FloatVector v = FloatVector.fromArray(sp, x, xOff + j);
            v.add(FloatVector.fromArray(sp, bias, bOff + j)).intoArray(y, yOff + j);
        }
        for (; j < n; j++) {
            y[yOff + j] = x[xOff + j] + bias[bOff + j];
        }
    }

    /**
     * {@code y[o + c] = relu?(acc[ao + c] * scale[c] + shift[c] (+ res[ro + c]))} for {@code c0 <= c < c1}:
     * a convolution's BatchNorm, residual and ReLU. The residual may be {@code y} at the same place.
     */
    private void affine(float[] acc, int ao, float[] y, int o, float[] scale, float[] shift, float[] res, int ro,
            boolean relu, int c0, int c1) {
        VectorSpecies<Float> sp = lanes.floats();
        int c = c0;
        int end = c1 - sp.length();
        if (res == null && relu) {
            for (; c <= end; c += sp.length()) {
                FloatVector v = FloatVector.fromArray(sp, acc, ao + c).mul(FloatVector.fromArray(sp, scale, c))
                        .add(FloatVector.fromArray(sp, shift, c));
                v.blend(0f, v.compare(VectorOperators.LT, 0f)).intoArray(y, o + c);
            }
        } else if (res == null) {
            for (; c <= end; c += sp.length()) {
                FloatVector.fromArray(sp, acc, ao + c).mul(FloatVector.fromArray(sp, scale, c))
                        .add(FloatVector.fromArray(sp, shift, c)).intoArray(y, o + c);
            }
        } else if (relu) {
            for (; c <= end; c += sp.length()) {
                FloatVector v = FloatVector.fromArray(sp, acc, ao + c).mul(FloatVector.fromArray(sp, scale, c))
                        .add(FloatVector.fromArray(sp, shift, c)).add(FloatVector.fromArray(sp, res, ro + c));
                v.blend(0f, v.compare(VectorOperators.LT, 0f)).intoArray(y, o + c);
            }
        } else {
            for (; c <= end; c += sp.length()) {
                FloatVector.fromArray(sp, acc, ao + c).mul(FloatVector.fromArray(sp, scale, c))
                        .add(FloatVector.fromArray(sp, shift, c)).add(FloatVector.fromArray(sp, res, ro + c))
                        .intoArray(y, o + c);
            }
        }
        for (; c < c1; c++) {
            float v = acc[ao + c] * scale[c] + shift[c];
            if (res != null) {
                v = v + res[ro + c];
            }
            y[o + c] = relu && v < 0f ? 0f : v;
        }
    }

    /** Any other combination, in scalar code (no caller uses one today). */
    private static void general(Epilogue ep, float[] acc, int ao, float[] y, int o, int ro, int c0, int c1) {
        for (int c = c0; c < c1; c++) {
            float v = acc[ao + c];
            if (ep.scale() != null) {
                v = v * ep.scale()[c];
            }
            if (ep.shift() != null) {
                v = v + ep.shift()[c];
            }
            if (ep.residual() != null) {
                v = v + ep.residual()[ro + c];
            }
            y[o + c] = ep.relu() && v < 0f ? 0f : v;
        }
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
     * it would be subnormal, it is flushed to zero. The last partial vector is processed on a padded
     * copy, by the same lanewise operations.
     */
    @Override
    public void gelu(float[] x, int off, int len) {
        VectorSpecies<Float> sp = lanes.floats();
        int lanesN = sp.length();
        int end = off + len;
        float[] tail = new float[lanesN];
        for (int i = off; i < end; i += lanesN) {
            // A last partial vector runs on a copy padded with zeros, through the same operations.
            boolean full = i + lanesN <= end;
            float[] src = full ? x : tail;
            int at = full ? i : 0;
            if (!full) {
                System.arraycopy(x, i, tail, 0, end - i);
            }
            FloatVector xv = FloatVector.fromArray(sp, src, at);
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
            // Unclamped: where s is below EXP_MIN the lanes compute garbage that the blend replaces by 0.
            FloatVector a = x2.mul(-0.5f);
            FloatVector b = p.sub(ax.fma(ax, x2.neg()).mul(0.5f));
            FloatVector s = a.add(b);
            FloatVector fx = s.fma(LOG2E, ROUND_MAGIC);
            FloatVector n = fx.sub(ROUND_MAGIC);
            FloatVector r = n.fma(n.broadcast(-LN2_HI), a).sub(n.mul(LN2_LO)).add(b);
            FloatVector ex = expReduced(fx, r).blend(0f, s.compare(VectorOperators.LT, EXP_MIN));
            FloatVector e = ex.mul(t).mul(0.5f);
            FloatVector y = xv.mul(e).blend(xv.mul(one.sub(e)), xv.compare(VectorOperators.GE, 0f));
            y.intoArray(src, at);
            if (!full) {
                System.arraycopy(tail, 0, x, i, end - i);
            }
        }
    }

    /**
     * {@code s[off + j] = exp(s[off + j] - max)} for {@code j < n}, then returns their sum (lane
     * accumulators over {@code j}, halving tree): the numerators of a softmax. Same exp as {@link
     * #gelu}, with {@code b = 0}.
     */
    private float softmaxExp(float[] s, int off, int n, float max, float[] red, float[] sums) {
        VectorSpecies<Float> sp = lanes.floats();
        int lanesN = sp.length();
        FloatVector acc = FloatVector.zero(sp);
        int j = 0;
        for (; j + lanesN <= n; j += lanesN) {
            FloatVector ex = expShifted(FloatVector.fromArray(sp, s, off + j).sub(max));
            ex.intoArray(s, off + j);
            acc = acc.add(ex);
        }
        if (j < n) {
            // The last partial vector runs on a copy padded with -inf, whose exp is exactly 0 and adds
            // nothing to the sums: the same bits as masked lanes, without masks.
            Arrays.fill(red, Float.NEGATIVE_INFINITY);
            System.arraycopy(s, off + j, red, 0, n - j);
            FloatVector ex = expShifted(FloatVector.fromArray(sp, red, 0).sub(max));
            ex.intoArray(red, 0);
            acc = acc.add(ex);
            System.arraycopy(red, 0, s, off + j, n - j);
        }
        acc.intoArray(red, 0);
        lanes.sums(red, 1, sums);
        return sums[0];
    }

    /**
     * The lanewise {@code exp(a)} of {@link #softmaxExp}: {@code 2^k (1 + r + r^2 q(r))} after the
     * Cody-Waite reduction {@code a = k ln 2 + r}, and 0 below {@link #EXP_MIN}. No clamp: lanes
     * below EXP_MIN (down to -inf) compute garbage that the blend replaces by 0. Its bytecode is
     * well under the size up to which C2 inlines a hot call (325 bytes), so the vectors it takes
     * and returns stay in registers.
     */
    private static FloatVector expShifted(FloatVector a) {
        FloatVector fx = a.fma(LOG2E, ROUND_MAGIC);
        FloatVector k = fx.sub(ROUND_MAGIC);
        FloatVector r = k.fma(k.broadcast(-LN2_HI), a).sub(k.mul(LN2_LO));
        return expReduced(fx, r).blend(0f, a.compare(VectorOperators.LT, EXP_MIN));
    }

    /**
     * {@code 2^k (1 + r + r^2 q(r))}, the exp of {@code k ln 2 + r} for a reduced {@code r}, where
     * {@code fx} holds {@code k} in its low mantissa bits (the argument times log2 e plus
     * {@link #ROUND_MAGIC}): the polynomial and the scaling that {@link #gelu} and
     * {@link #expShifted} share. Small enough to be inlined into both, so its vectors stay in
     * registers.
     */
    private static FloatVector expReduced(FloatVector fx, FloatVector r) {
        FloatVector q = r.fma(EXP_P0, EXP_P1);
        q = q.fma(r, q.broadcast(EXP_P2));
        q = q.fma(r, q.broadcast(EXP_P3));
        q = q.fma(r, q.broadcast(EXP_P4));
        q = q.fma(r, q.broadcast(EXP_P5));
        FloatVector scale = fx.reinterpretAsInts().sub(ROUND_MAGIC_BITS - 127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return q.fma(r.mul(r), r).add(1f).mul(scale);
    }

    // ---------------------------------------------------------------- conv2d

    /**
     * {@inheritDoc}
     *
     * <p>A matrix product of the output pixels by the packed weights: a 1x1 convolution of stride 1
     * reads the image as its rows; any other reads each pixel's receptive field in place, one
     * contiguous run per row of the field, from the image (copied into a zero border first when
     * {@code pad > 0}), so no im2col matrix is built.
     */
    @Override
    public void conv2d(float[] in, int h, int w, JvWeights weight, int stride, int pad, float[] scale, float[] shift,
            float[] residual, boolean relu, float[] out, int outH, int outW) {
        weight.requireOwner(micro);
        int c = weight.inChannels();
        int kernel = weight.kernel();
        if (outH <= 0 || outW <= 0) {
            return;
        }
        if ((long) h * w * c > in.length) {
            throw new IndexOutOfBoundsException("a " + h + "x" + w + "x" + c + " image needs " + (long) h * w * c
                    + " floats, got " + in.length);
        }
        if ((outH - 1) * stride + kernel > h + 2 * pad || (outW - 1) * stride + kernel > w + 2 * pad) {
            throw new IllegalArgumentException("output " + outH + "x" + outW + " does not fit a " + h + "x" + w
                    + " image with kernel " + kernel + ", stride " + stride + ", padding " + pad);
        }
        boolean plain = scale == null && shift == null && residual == null && !relu;
        Epilogue ep = plain ? null : new Epilogue(scale, shift, residual, relu);
        if (weight.winograd != null) {
            if (stride != 1 || pad != 1) {
                throw new IllegalArgumentException("weights packed for stride 1 and padding 1 (Winograd) used with"
                        + " stride " + stride + " and padding " + pad);
            }
            if (outH != h || outW != w) {
                throw new IllegalArgumentException("weights packed for stride 1 and padding 1 (Winograd) give a "
                        + h + "x" + w + " output, not " + outH + "x" + outW);
            }
            winograd(in, h, w, weight, ep, out);
            return;
        }
        Source src;
        float[] image = null;
        if (kernel == 1 && stride == 1 && pad == 0 && outW == w) {
            src = Source.rows(in, 0, c);
        } else {
            image = pad == 0 ? in : padded(in, h, w, c, pad, h + 2 * pad, w + 2 * pad);
            int wp = w + 2 * pad;
            // Reduction index i = (ky * kernel + kx) * c + ic reads (ky * wp + kx) * c + ic from the
            // field's corner: one row of the field (all kx, all channels) is contiguous in a
            // channels-last image, so each ky is a run of kernel * c indices with its own shift.
            int[] runShift = new int[kernel];
            for (int ky = 0; ky < kernel; ky++) {
                runShift[ky] = ky * (wp - kernel) * c;
            }
            src = Source.conv(image, kernel * c, runShift, outW, stride * wp * c, stride * c);
        }
        gemm(src, outH * outW, weight, ep, out, 0);
        if (image != null && image != in) {
            buffers.give(image);
        }
    }

    /**
     * A channels-last image inside a zero border, {@code pad} pixels at the top and left, {@code hp}
     * by {@code wp} pixels in all, in an array from the buffers (stale contents: the border is
     * written too); rows in parallel.
     */
    private float[] padded(float[] in, int h, int w, int c, int pad, int hp, int wp) {
        float[] out = buffers.take(hp * wp * c);
        parallel.forEach(ceilDiv(hp, PAD_ROWS), t -> {
            for (int y = t * PAD_ROWS, end = Math.min(hp, y + PAD_ROWS); y < end; y++) {
                int row = y * wp * c;
                if (y < pad || y >= pad + h) {
                    Arrays.fill(out, row, row + wp * c, 0f);
                } else {
                    Arrays.fill(out, row, row + pad * c, 0f);
                    System.arraycopy(in, (y - pad) * w * c, out, row + pad * c, w * c);
                    Arrays.fill(out, row + (pad + w) * c, row + wp * c, 0f);
                }
            }
        });
        return out;
    }

    // ---------------------------------------------------------------- Winograd F(2x2, 3x3)

    /** Points of F(2x2, 3x3)'s domain: 4x4, point {@code xi = 4i + j}. */
    private static final int WINOGRAD_POINTS = 16;
    /** F(2x2, 3x3)'s {@code G}: a 3x3 kernel {@code g} becomes {@code U = G g G^T}, 4x4. */
    private static final double[][] WINOGRAD_G = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};

    /**
     * {@code U = G g G^T} of every (output, input) channel pair, in double, rounded to float once: 16
     * matrices {@code [out, inC]}, one per point of the domain.
     */
    private static float[][] winogradWeights(float[] w, int out, int inC) {
        float[][] u = new float[WINOGRAD_POINTS][out * inC];
        double[] gg = new double[12];
        for (int oc = 0; oc < out; oc++) {
            for (int ic = 0; ic < inC; ic++) {
                int g = (oc * inC + ic) * 9;
                for (int i = 0; i < 4; i++) {
                    double[] gi = WINOGRAD_G[i];
                    for (int j = 0; j < 3; j++) {
                        gg[i * 3 + j] = gi[0] * w[g + j] + gi[1] * w[g + 3 + j] + gi[2] * w[g + 6 + j];
                    }
                }
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 4; j++) {
                        double[] gj = WINOGRAD_G[j];
                        u[i * 4 + j][oc * inC + ic] = (float) (gg[i * 3] * gj[0] + gg[i * 3 + 1] * gj[1]
                                + gg[i * 3 + 2] * gj[2]);
                    }
                }
            }
        }
        return u;
    }

    /**
     * A 3x3 convolution of stride 1 and padding 1 as Winograd's F(2x2, 3x3): the output tile
     * {@code (ty, tx)}, pixels {@code [2ty, 2ty + 2) x [2tx, 2tx + 2)}, is {@code A^T M A} with
     * {@code M[xi] = sum_ic U[xi] * (B^T d B)[xi]} over the tile's 4x4 input patches {@code d}. Three
     * phases, each spread over the pool: the input transform of every tile into {@code V}, {@code
     * [16][tiles][inC]}; the 16 products {@code M[xi] = V[xi] U[xi]^T}, fused multiply-add chains over
     * the channels like any product; the output transform, a row of tiles at a time, each row's
     * epilogue running on its two rows of pixels while they are in cache.
     */
    private void winograd(float[] in, int h, int w, JvWeights weight, Epilogue epilogue, float[] out) {
        int c = weight.inChannels();
        int k = weight.out();
        int th = ceilDiv(h, 2);
        int tw = ceilDiv(w, 2);
        int tiles = th * tw;
        // A tile's patch starts a pixel before its corner: a border of one, and of two at the far
        // side of an odd dimension.
        int hp = 2 * th + 2;
        int wp = 2 * tw + 2;
        float[] image = padded(in, h, w, c, 1, hp, wp);
        float[] v = buffers.take(WINOGRAD_POINTS * tiles * c);
        parallel.forEach(th, ty -> {
            for (int tx = 0; tx < tw; tx++) {
                winogradInput(image, wp, c, ty, tx, v, (ty * tw + tx) * c, tiles * c);
            }
        });
        buffers.give(image);
        float[] m = buffers.take(WINOGRAD_POINTS * tiles * k);
        int panels = ceilDiv(k, micro.width());
        int kBlock = reductionBlock(c);
        int rowTiles = ceilDiv(tiles, JvMicroKernel.ROWS);
        int split = Math.min(rowTiles, ceilDiv(parallel.threads() * TASKS_PER_THREAD, WINOGRAD_POINTS));
        parallel.forEach(WINOGRAD_POINTS * split, t -> {
            int xi = t / split;
            int part = t % split;
            int r0 = part * rowTiles / split * JvMicroKernel.ROWS;
            int r1 = Math.min(tiles, (part + 1) * rowTiles / split * JvMicroKernel.ROWS);
            gemmTask(Source.rows(v, xi * tiles * c, c), weight.winograd[xi], null, m, xi * tiles * k, r0, r1, 0,
                    panels, kBlock);
        });
        buffers.give(v);
        // The output transform writes each output before the epilogue reads its residual.
        Epilogue ep = epilogue != null && epilogue.residual() == out
                ? new Epilogue(epilogue.scale(), epilogue.shift(), Arrays.copyOf(out, h * w * k), epilogue.relu())
                : epilogue;
        parallel.forEach(th, ty -> {
            for (int tx = 0; tx < tw; tx++) {
                winogradOutput(m, tiles * k, (ty * tw + tx) * k, k, out, h, w, ty, tx);
            }
            if (ep != null) {
                int r = 2 * ty * w;
                finish(ep, out, r * k, k, out, 0, k, r, Math.min(2, h - 2 * ty) * w, 0, k);
            }
        });
        buffers.give(m);
    }

    /**
     * {@code V = B^T d B} of tile {@code (ty, tx)}'s 4x4 patch of the bordered image, every channel:
     * point {@code xi} goes to {@code v[vOff + xi * plane + ic]}. The rows first ({@code t = B^T d}:
     * {@code d0 - d2, d1 + d2, d2 - d1, d1 - d3}), then the same on the columns of {@code t}.
     */
    private void winogradInput(float[] image, int wp, int c, int ty, int tx, float[] v, int vOff, int plane) {
        VectorSpecies<Float> sp = lanes.floats();
        int corner = (2 * ty * wp + 2 * tx) * c;
        int rs = wp * c;
        int c0 = 0;
        for (int end = c - sp.length(); c0 <= end; c0 += sp.length()) {
            int a = corner + c0;
            FloatVector d00 = FloatVector.fromArray(sp, image, a);
            FloatVector d01 = FloatVector.fromArray(sp, image, a + c);
            FloatVector d02 = FloatVector.fromArray(sp, image, a + 2 * c);
            FloatVector d03 = FloatVector.fromArray(sp, image, a + 3 * c);
            FloatVector d10 = FloatVector.fromArray(sp, image, a + rs);
            FloatVector d11 = FloatVector.fromArray(sp, image, a + rs + c);
            FloatVector d12 = FloatVector.fromArray(sp, image, a + rs + 2 * c);
            FloatVector d13 = FloatVector.fromArray(sp, image, a + rs + 3 * c);
            FloatVector d20 = FloatVector.fromArray(sp, image, a + 2 * rs);
            FloatVector d21 = FloatVector.fromArray(sp, image, a + 2 * rs + c);
            FloatVector d22 = FloatVector.fromArray(sp, image, a + 2 * rs + 2 * c);
            FloatVector d23 = FloatVector.fromArray(sp, image, a + 2 * rs + 3 * c);
            FloatVector d30 = FloatVector.fromArray(sp, image, a + 3 * rs);
            FloatVector d31 = FloatVector.fromArray(sp, image, a + 3 * rs + c);
            FloatVector d32 = FloatVector.fromArray(sp, image, a + 3 * rs + 2 * c);
            FloatVector d33 = FloatVector.fromArray(sp, image, a + 3 * rs + 3 * c);
            FloatVector t00 = d00.sub(d20);
            FloatVector t01 = d01.sub(d21);
            FloatVector t02 = d02.sub(d22);
            FloatVector t03 = d03.sub(d23);
            FloatVector t10 = d10.add(d20);
            FloatVector t11 = d11.add(d21);
            FloatVector t12 = d12.add(d22);
            FloatVector t13 = d13.add(d23);
            FloatVector t20 = d20.sub(d10);
            FloatVector t21 = d21.sub(d11);
            FloatVector t22 = d22.sub(d12);
            FloatVector t23 = d23.sub(d13);
            FloatVector t30 = d10.sub(d30);
            FloatVector t31 = d11.sub(d31);
            FloatVector t32 = d12.sub(d32);
            FloatVector t33 = d13.sub(d33);
            int o = vOff + c0;
            t00.sub(t02).intoArray(v, o);
            t01.add(t02).intoArray(v, o + plane);
            t02.sub(t01).intoArray(v, o + 2 * plane);
            t01.sub(t03).intoArray(v, o + 3 * plane);
            t10.sub(t12).intoArray(v, o + 4 * plane);
            t11.add(t12).intoArray(v, o + 5 * plane);
            t12.sub(t11).intoArray(v, o + 6 * plane);
            t11.sub(t13).intoArray(v, o + 7 * plane);
            t20.sub(t22).intoArray(v, o + 8 * plane);
            t21.add(t22).intoArray(v, o + 9 * plane);
            t22.sub(t21).intoArray(v, o + 10 * plane);
            t21.sub(t23).intoArray(v, o + 11 * plane);
            t30.sub(t32).intoArray(v, o + 12 * plane);
            t31.add(t32).intoArray(v, o + 13 * plane);
            t32.sub(t31).intoArray(v, o + 14 * plane);
            t31.sub(t33).intoArray(v, o + 15 * plane);
        }
        // The channels past the last whole vector: the same operations, one for one.
        float[] t = c0 < c ? new float[16] : null;
        for (; c0 < c; c0++) {
            int a = corner + c0;
            for (int j = 0; j < 4; j++) {
                float d0 = image[a + j * c];
                float d1 = image[a + rs + j * c];
                float d2 = image[a + 2 * rs + j * c];
                float d3 = image[a + 3 * rs + j * c];
                t[j] = d0 - d2;
                t[4 + j] = d1 + d2;
                t[8 + j] = d2 - d1;
                t[12 + j] = d1 - d3;
            }
            int o = vOff + c0;
            for (int i = 0; i < 4; i++) {
                v[o + 4 * i * plane] = t[4 * i] - t[4 * i + 2];
                v[o + (4 * i + 1) * plane] = t[4 * i + 1] + t[4 * i + 2];
                v[o + (4 * i + 2) * plane] = t[4 * i + 2] - t[4 * i + 1];
                v[o + (4 * i + 3) * plane] = t[4 * i + 1] - t[4 * i + 3];
            }
        }
    }

    /**
     * {@code A^T M A} of tile {@code (ty, tx)}, every output channel, point {@code xi} of {@code M} read
     * from {@code m[mOff + xi * plane + oc]}: the rows first ({@code s = A^T M}: {@code m0 + m1 + m2,
     * m1 - m2 - m3}), then the same on the columns of {@code s}; the pixels of a tile past the image
     * (an odd dimension) are not written.
     */
    private void winogradOutput(float[] m, int plane, int mOff, int k, float[] out, int h, int w, int ty, int tx) {
        VectorSpecies<Float> sp = lanes.floats();
        boolean down = 2 * ty + 1 < h;
        boolean right = 2 * tx + 1 < w;
        int o00 = (2 * ty * w + 2 * tx) * k;
        int o10 = o00 + w * k;
        int c0 = 0;
        for (int end = k - sp.length(); c0 <= end; c0 += sp.length()) {
            int a = mOff + c0;
            FloatVector m00 = FloatVector.fromArray(sp, m, a);
            FloatVector m01 = FloatVector.fromArray(sp, m, a + plane);
            FloatVector m02 = FloatVector.fromArray(sp, m, a + 2 * plane);
            FloatVector m03 = FloatVector.fromArray(sp, m, a + 3 * plane);
            FloatVector m10 = FloatVector.fromArray(sp, m, a + 4 * plane);
            FloatVector m11 = FloatVector.fromArray(sp, m, a + 5 * plane);
            FloatVector m12 = FloatVector.fromArray(sp, m, a + 6 * plane);
            FloatVector m13 = FloatVector.fromArray(sp, m, a + 7 * plane);
            FloatVector m20 = FloatVector.fromArray(sp, m, a + 8 * plane);
            FloatVector m21 = FloatVector.fromArray(sp, m, a + 9 * plane);
            FloatVector m22 = FloatVector.fromArray(sp, m, a + 10 * plane);
            FloatVector m23 = FloatVector.fromArray(sp, m, a + 11 * plane);
            FloatVector m30 = FloatVector.fromArray(sp, m, a + 12 * plane);
            FloatVector m31 = FloatVector.fromArray(sp, m, a + 13 * plane);
            FloatVector m32 = FloatVector.fromArray(sp, m, a + 14 * plane);
            FloatVector m33 = FloatVector.fromArray(sp, m, a + 15 * plane);
            FloatVector s00 = m00.add(m10).add(m20);
            FloatVector s01 = m01.add(m11).add(m21);
            FloatVector s02 = m02.add(m12).add(m22);
            FloatVector s03 = m03.add(m13).add(m23);
            FloatVector s10 = m10.sub(m20).sub(m30);
            FloatVector s11 = m11.sub(m21).sub(m31);
            FloatVector s12 = m12.sub(m22).sub(m32);
            FloatVector s13 = m13.sub(m23).sub(m33);
            s00.add(s01).add(s02).intoArray(out, o00 + c0);
            if (right) {
                s01.sub(s02).sub(s03).intoArray(out, o00 + k + c0);
            }
            if (down) {
                s10.add(s11).add(s12).intoArray(out, o10 + c0);
                if (right) {
                    s11.sub(s12).sub(s13).intoArray(out, o10 + k + c0);
                }
            }
        }
        // The channels past the last whole vector: the same operations, one for one.
        float[] s = c0 < k ? new float[8] : null;
        for (; c0 < k; c0++) {
            int a = mOff + c0;
            for (int j = 0; j < 4; j++) {
                float m0 = m[a + j * plane];
                float m1 = m[a + (4 + j) * plane];
                float m2 = m[a + (8 + j) * plane];
                float m3 = m[a + (12 + j) * plane];
                s[j] = m0 + m1 + m2;
                s[4 + j] = m1 - m2 - m3;
            }
            out[o00 + c0] = s[0] + s[1] + s[2];
            if (right) {
                out[o00 + k + c0] = s[1] - s[2] - s[3];
            }
            if (down) {
                out[o10 + c0] = s[4] + s[5] + s[6];
                if (right) {
                    out[o10 + k + c0] = s[5] - s[6] - s[7];
                }
            }
        }
    }

    // ---------------------------------------------------------------- attention

    /**
     * {@inheritDoc} Transposed into panels of the micro-kernel's width,
     * {@code [keys / width][headDim][width]}, keys padded with zeros to whole panels: the score
     * micro-kernel then reads each panel as one contiguous block, as it reads packed weights.
     */
    @Override
    public JvKeys keys(float[] k, int kOff, int kStride, int nk, int headDim) {
        int width = micro.width();
        int stride = Math.max(width, ceilDiv(nk, width) * width);
        float[] t = new float[headDim * stride];
        for (int j = 0; j < nk; j++) {
            int src = kOff + j * kStride;
            int dst = j / width * headDim * width + j % width;
            for (int c = 0; c < headDim; c++) {
                t[dst + c * width] = k[src + c];
            }
        }
        return new JvKeys(nk, headDim, micro, t, 0, stride);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Tiles of six queries: their scores against every allowed key by the micro-kernel (over
     * {@code headDim} in order), the bias added, the softmax numerators by the lanewise exp of
     * {@link #gelu} after subtracting the row maximum, their sum by lane accumulators and the halving
     * tree, then the numerators times the values by the micro-kernel (keys in order; the keys that
     * only some of a causal tile's queries see are added row by row, continuing the same sequence),
     * and the quotient by the sum. A query gives the same bits alone or in any tile.
     */
    @Override
    public void attention(float[] q, int qOff, int qStride, JvKeys keys, float[] v, int vOff, int vStride, int nq,
            float[] bias, int biasOff, int biasStride, boolean causal, int causalOffset, float[] out, int outOff,
            int outStride) {
        keys.requireOwner(micro);
        if (nq <= 0) {
            return;
        }
        int nk = keys.count();
        int hd = keys.headDim();
        int width = micro.width();
        int rows = JvMicroKernel.ROWS;
        float[] kt = keys.data;
        int ks = keys.stride;
        int hdPad = ceilDiv(hd, width) * width;
        float[] vv = v;
        int vo = vOff;
        int ldv = vStride;
        boolean pastEnd = nk > 0 && (long) vOff + (long) (nk - 1) * vStride + hdPad > v.length;
        if (pastEnd || (vStride != hdPad && nq >= PACK_VALUES_QUERIES)) {
            // The values go into contiguous rows padded to whole panels: when the panels would read
            // past the array, and when enough queries read them that the copy pays: a panel that
            // steps through a fused [q | k | v] row per key touches a new page at every key.
            vv = new float[nk * hdPad];
            for (int j = 0; j < nk; j++) {
                System.arraycopy(v, vOff + j * vStride, vv, j * hdPad, hd);
            }
            vo = 0;
            ldv = hdPad;
        }
        VectorSpecies<Float> sp = lanes.floats();
        int len = sp.length();
        float[] s = new float[rows * ks];
        float[] o = new float[rows * hdPad];
        float[] red = new float[len];
        float[] sums = new float[1];
        int[] limit = new int[rows];
        float[] total = new float[rows];
        for (int i0 = 0; i0 < nq; i0 += rows) {
            int m = Math.min(rows, nq - i0);
            int lo = nk;
            int hi = 0;
            for (int r = 0; r < m; r++) {
                limit[r] = causal ? (int) Math.max(0, Math.min(nk, (long) i0 + r + causalOffset + 1)) : nk;
                lo = Math.min(lo, limit[r]);
                hi = Math.max(hi, limit[r]);
            }
            if (hi > 0) {
                for (int j0 = 0; j0 < hi; j0 += width) {
                    rowsTimesPanel(q, qOff + i0 * qStride, qStride, m, kt, j0 * hd, width, 0, hd, s, j0, ks, false);
                }
                for (int r = 0; r < m; r++) {
                    if (limit[r] > 0) {
                        total[r] = softmaxRow(s, r * ks, limit[r], bias, biasOff + (i0 + r) * biasStride, red, sums);
                    }
                }
                for (int c0 = 0; c0 < hdPad; c0 += width) {
                    if (m >= 3) {
                        micro.tile(s, 0, ks, m, vv, vo + c0, ldv, 0, lo, o, c0, hdPad, false);
                        for (int r = 0; r < m; r++) {
                            if (limit[r] > lo) {
                                micro.row(s, r * ks, vv, vo + c0, ldv, lo, limit[r], o, r * hdPad + c0, true);
                            }
                        }
                    } else {
                        for (int r = 0; r < m; r++) {
                            micro.row(s, r * ks, vv, vo + c0, ldv, 0, limit[r], o, r * hdPad + c0, false);
                        }
                    }
                }
            }
            for (int r = 0; r < m; r++) {
                int oo = outOff + (i0 + r) * outStride;
                if (limit[r] == 0) {
                    // Nothing to attend to: the control leaves an all-zero row, and so do we.
                    Arrays.fill(out, oo, oo + hd, 0f);
                    continue;
                }
                float z = total[r];
                int c = 0;
                for (; c + len <= hd; c += len) {
                    FloatVector.fromArray(sp, o, r * hdPad + c).div(z).intoArray(out, oo + c);
                }
                for (; c < hd; c++) {
                    out[oo + c] = o[r * hdPad + c] / z;
                }
            }
        }
    }

    /**
     * Adds the bias to the {@code n} scores from {@code s[off]}, turns them into softmax numerators
     * ({@link #softmaxExp}) and returns their sum.
     */
    private float softmaxRow(float[] s, int off, int n, float[] bias, int bOff, float[] red, float[] sums) {
        VectorSpecies<Float> sp = lanes.floats();
        int len = sp.length();
        // Four running maxima: a lanewise max with Java's semantics is several instructions with a
        // latency to match, and one chain through the whole row waits on each in turn. The maximum
        // is exact whatever the order; only its use as the shift below matters. The bias is added
        // in the same pass, each score stored with its bias before the maxima read it.
        FloatVector m0 = FloatVector.broadcast(sp, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        FloatVector m2 = m0;
        FloatVector m3 = m0;
        int j = 0;
        for (; j + 4 * len <= n; j += 4 * len) {
            m0 = m0.max(biased(s, off + j, bias, bOff + j));
            m1 = m1.max(biased(s, off + j + len, bias, bOff + j + len));
            m2 = m2.max(biased(s, off + j + 2 * len, bias, bOff + j + 2 * len));
            m3 = m3.max(biased(s, off + j + 3 * len, bias, bOff + j + 3 * len));
        }
        for (; j + len <= n; j += len) {
            m0 = m0.max(biased(s, off + j, bias, bOff + j));
        }
        m0.max(m1).max(m2.max(m3)).intoArray(red, 0);
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            max = Math.max(max, red[i]);
        }
        for (; j < n; j++) {
            if (bias != null) {
                s[off + j] = s[off + j] + bias[bOff + j];
            }
            max = Math.max(max, s[off + j]);
        }
        return softmaxExp(s, off, n, max, red, sums);
    }

    /**
     * One vector of scores plus their bias, {@code s[at + i] + bias[bAt + i]}, stored back into
     * {@code s} and returned; the scores as they are without a bias. Small enough to be inlined, so
     * its vectors stay in registers.
     */
    private FloatVector biased(float[] s, int at, float[] bias, int bAt) {
        VectorSpecies<Float> sp = lanes.floats();
        FloatVector v = FloatVector.fromArray(sp, s, at);
        if (bias == null) {
            return v;
        }
        v = v.add(FloatVector.fromArray(sp, bias, bAt));
        v.intoArray(s, at);
        return v;
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

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
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
