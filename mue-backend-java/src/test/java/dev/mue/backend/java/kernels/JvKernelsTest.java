package dev.mue.backend.java.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Vector API kernels against the scalar control and a double-precision reference.
 *
 * <p>Tolerances. Dot products (linear, conv2d) are checked against a double reference with the
 * classical worst-case bound for float summation, {@code (n + 2) * 2^-24 * sum |x_i w_i|}, which no
 * correct summation order can exceed and which is far smaller than any single dropped or misplaced
 * term. Elementwise and normalised kernels use stated relative/absolute tolerances. The fixed
 * sequence of operations behind every matrix product (a fused multiply-add chain in reduction
 * order) is checked bitwise against a scalar rendering of it, and the batch invariance of linear,
 * conv2d and attention bitwise across rows, offsets, tiles and threads.
 */
class JvKernelsTest {
    private static final double U = 0x1p-24;
    private static final float SENTINEL = -12345.5f;
    private static final JvKernels NAIVE = new JvNaiveKernels();

    private static ForkJoinPool pool1;
    private static ForkJoinPool pool2;
    private static ForkJoinPool pool4;

    @BeforeAll
    static void startPools() {
        pool1 = new ForkJoinPool(1);
        pool2 = new ForkJoinPool(2);
        pool4 = new ForkJoinPool(4);
    }

    @AfterAll
    static void stopPools() throws InterruptedException {
        for (ForkJoinPool p : new ForkJoinPool[] {pool1, pool2, pool4}) {
            p.shutdown();
            assertTrue(p.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    /** The preferred species and the narrower ones that other machines would pick. */
    static List<String> species() {
        Map<Integer, String> byBits = new LinkedHashMap<>();
        byBits.put(FloatVector.SPECIES_PREFERRED.vectorBitSize(), "preferred");
        byBits.putIfAbsent(128, "128");
        byBits.putIfAbsent(256, "256");
        return new ArrayList<>(byBits.values());
    }

    private static VectorSpecies<Float> speciesNamed(String name) {
        return switch (name) {
            case "preferred" -> FloatVector.SPECIES_PREFERRED;
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static float[] random(SplittableRandom rnd, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return a;
    }

    private static float[] sentinels(int n) {
        float[] a = new float[n];
        Arrays.fill(a, SENTINEL);
        return a;
    }

    /** Every element outside {@code [from, to)} still holds the sentinel. */
    private static void assertUntouched(float[] a, int from, int to, String what) {
        for (int i = 0; i < a.length; i++) {
            if ((i < from || i >= to) && a[i] != SENTINEL) {
                fail(what + ": wrote outside its range at " + i);
            }
        }
    }

    // ------------------------------------------------------------------ general

    @Test
    void defaultsToThePreferredSpecies() {
        JvVectorKernels k = new JvVectorKernels(null);
        assertEquals(FloatVector.SPECIES_PREFERRED, k.species());
        assertEquals("vector", k.name());
        assertEquals(FloatVector.SPECIES_128, new JvVectorKernels(FloatVector.SPECIES_128, null).species());
        // Six rows by four vectors on AVX-512 (32 registers), by two on narrower vectors (16 registers).
        assertEquals(64, new JvVectorKernels(FloatVector.SPECIES_512, null).micro().width());
        assertEquals(16, new JvVectorKernels(FloatVector.SPECIES_256, null).micro().width());
        assertEquals(8, new JvVectorKernels(FloatVector.SPECIES_128, null).micro().width());
        assertEquals(6, JvMicroKernel.ROWS);
    }

    // ------------------------------------------------------------------ linear

    @Test
    void linearHandComputed() {
        float[] x = {1, 2, 3, 4, 5, 6};
        float[] w = {1, 0, -1, 0.5f, 0.5f, 0.5f};
        float[] bias = {0.25f, -1};
        float[] expected = {-1.75f, 2, -1.75f, 6.5f};
        for (JvKernels k : List.of(NAIVE, new JvVectorKernels(null), new JvVectorKernels(FloatVector.SPECIES_128,
                pool2))) {
            float[] y = new float[4];
            k.linear(x, 0, 2, 3, w, bias, 2, y, 0);
            assertArrayEquals(expected, y, k.name());
            k.linear(x, 0, 2, 3, w, null, 2, y, 0);
            assertArrayEquals(new float[] {-2, 3, -2, 7.5f}, y, k.name() + " without bias");
            JvWeights packed = k.packLinear(w, 2, 3);
            assertEquals(2, packed.out());
            assertEquals(3, packed.in());
            k.linear(x, 0, 2, packed, bias, y, 0);
            assertArrayEquals(expected, y, k.name() + " packed");
        }
    }

    @Test
    void weightsArePackedForTheKernelsThatUseThem() {
        float[] w = new float[6];
        JvWeights naive = NAIVE.packLinear(w, 2, 3);
        JvWeights vec = new JvVectorKernels(null).packLinear(w, 2, 3);
        float[] y = new float[2];
        assertThrows(IllegalArgumentException.class, () -> new JvVectorKernels(null).linear(new float[3], 0, 1,
                naive, null, y, 0));
        assertThrows(IllegalArgumentException.class, () -> NAIVE.linear(new float[3], 0, 1, vec, null, y, 0));
        assertThrows(IllegalArgumentException.class, () -> NAIVE.packLinear(w, 2, 4), "size mismatch");
        assertThrows(IllegalArgumentException.class, () -> NAIVE.packConv(w, 2, 3, 3), "size mismatch");
        // Kernels of the same vector shape share the layout.
        new JvVectorKernels(pool2).linear(new float[3], 0, 1, vec, null, y, 0);
    }

    /**
     * The contract behind batch invariance, stated exactly: each output is {@code fma(x_i, w_i, acc)}
     * for {@code i} in order from zero, then plus the bias. Reduction lengths over 1024 are computed
     * in blocks, partial sums stored and reloaded.
     */
    @ParameterizedTest
    @MethodSource("species")
    void linearIsTheFmaChainInReductionOrderBitwise(String speciesName) {
        SplittableRandom rnd = new SplittableRandom(16);
        for (ForkJoinPool pool : new ForkJoinPool[] {null, pool2}) {
            JvKernels vec = new JvVectorKernels(speciesNamed(speciesName), pool);
            for (int[] shape : new int[][] {{1, 5, 3}, {7, 33, 17}, {13, 130, 70}, {6, 1100, 129}, {2, 2500, 40},
                {40, 300, 200}}) {
                int rows = shape[0];
                int in = shape[1];
                int out = shape[2];
                float[] x = random(rnd, rows * in, -1, 1);
                float[] w = random(rnd, out * in, -1, 1);
                float[] bias = random(rnd, out, -1, 1);
                float[] y = new float[rows * out];
                vec.linear(x, 0, rows, vec.packLinear(w, out, in), bias, y, 0);
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < out; o++) {
                        float acc = 0;
                        for (int i = 0; i < in; i++) {
                            acc = Math.fma(x[r * in + i], w[o * in + i], acc);
                        }
                        assertEquals(Float.floatToIntBits(acc + bias[o]), Float.floatToIntBits(y[r * out + o]),
                                Arrays.toString(shape) + " at " + r + "," + o);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("species")
    void linearMatchesReferenceOverOddSizes(String speciesName) {
        JvKernels vec = new JvVectorKernels(speciesNamed(speciesName), null);
        SplittableRandom rnd = new SplittableRandom(11);
        int checked = 0;
        for (int rows : new int[] {1, 2, 3, 4, 5, 7, 9}) {
            for (int in : new int[] {1, 3, 7, 8, 16, 17, 31, 33, 130}) {
                for (int out : new int[] {1, 2, 3, 4, 5, 7, 17}) {
                    for (boolean withBias : new boolean[] {false, true}) {
                        checkLinear(vec, rnd, rows, in, out, withBias);
                        checked++;
                    }
                }
            }
        }
        assertEquals(882, checked);
    }

    @Test
    void linearMatchesReferenceOnThePool() {
        SplittableRandom rnd = new SplittableRandom(12);
        for (ForkJoinPool pool : new ForkJoinPool[] {pool2, pool4}) {
            JvKernels vec = new JvVectorKernels(pool);
            assertTrue(17L * 257 * 515 >= JvVectorKernels.PARALLEL_MACS, "the shapes below reach the pool");
            checkLinear(vec, rnd, 64, 512, 130, true);
            checkLinear(vec, rnd, 17, 257, 515, false);
            checkLinear(vec, rnd, 1, 3072, 769, true);
            // 36 panels: 12 panel tasks by 2 row tasks on two threads, 18 by 2 on four.
            checkLinear(vec, rnd, 40, 64, 36 * 64, true);
        }
    }

    /** Panel tasks divide the panels evenly where a count down to half the target does. */
    @Test
    void panelTasksDivideThePanelsEvenly() {
        assertEquals(12, JvVectorKernels.evenPanelTasks(36, 16));
        assertEquals(18, JvVectorKernels.evenPanelTasks(36, 32));
        assertEquals(12, JvVectorKernels.evenPanelTasks(24, 16));
        assertEquals(16, JvVectorKernels.evenPanelTasks(48, 16));
        assertEquals(15, JvVectorKernels.evenPanelTasks(930, 16));
        assertEquals(5, JvVectorKernels.evenPanelTasks(5, 16));
        assertEquals(1, JvVectorKernels.evenPanelTasks(1, 16));
        // No count from 16 down to 8 divides 17: as many tasks as the target.
        assertEquals(16, JvVectorKernels.evenPanelTasks(17, 16));
    }

    /** Calls made from the pool's own threads, all busy, complete; a task's failure reaches the caller. */
    @Test
    void linearOnThePoolNestsAndReportsFailures() throws Exception {
        SplittableRandom rnd = new SplittableRandom(15);
        JvKernels k = new JvVectorKernels(pool2);
        int rows = 32;
        int in = 256;
        int out = 300;
        float[] x = random(rnd, rows * in, -1, 1);
        float[] w = random(rnd, out * in, -1, 1);
        float[] expected = new float[rows * out];
        new JvVectorKernels(null).linear(x, 0, rows, in, w, null, out, expected, 0);
        List<Future<float[]>> results = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            results.add(pool2.submit(() -> {
                float[] y = new float[rows * out];
                k.linear(x, 0, rows, in, w, null, out, y, 0);
                return y;
            }));
        }
        for (Future<float[]> f : results) {
            assertArrayEquals(expected, f.get(30, TimeUnit.SECONDS));
        }
        float[] tooShort = new float[rows * out - 1];
        assertThrows(IndexOutOfBoundsException.class,
                () -> k.linear(x, 0, rows, in, w, null, out, tooShort, 0));
    }

    private static void checkLinear(JvKernels vec, SplittableRandom rnd, int rows, int in, int out, boolean withBias) {
        int xOff = rnd.nextInt(5);
        int yOff = rnd.nextInt(5);
        float[] x = random(rnd, xOff + rows * in + 3, -1, 1);
        float[] w = random(rnd, out * in, -1, 1);
        float[] bias = withBias ? random(rnd, out, -1, 1) : null;
        float[] yv = sentinels(yOff + rows * out + 3);
        float[] yn = sentinels(yv.length);
        vec.linear(x, xOff, rows, in, w, bias, out, yv, yOff);
        NAIVE.linear(x, xOff, rows, in, w, bias, out, yn, yOff);
        String what = "linear rows=" + rows + " in=" + in + " out=" + out + " bias=" + withBias;
        assertUntouched(yv, yOff, yOff + rows * out, what);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double ref = bias == null ? 0 : bias[o];
                double abs = bias == null ? 0 : Math.abs(bias[o]);
                for (int i = 0; i < in; i++) {
                    double p = (double) x[xOff + r * in + i] * w[o * in + i];
                    ref += p;
                    abs += Math.abs(p);
                }
                double tol = (in + 2) * U * abs;
                int at = yOff + r * out + o;
                assertEquals(ref, yv[at], tol, what + " at " + r + "," + o);
                assertEquals(ref, yn[at], tol, what + " (naive) at " + r + "," + o);
            }
        }
    }

    /**
     * The contract of {@link JvKernels}: a row's result does not depend on how many rows share the
     * call, where the row sits, the offsets, or the thread count.
     */
    @ParameterizedTest
    @MethodSource("species")
    void linearIsBitwiseInvariantToRowsOffsetsAndThreads(String speciesName) {
        VectorSpecies<Float> sp = speciesNamed(speciesName);
        SplittableRandom rnd = new SplittableRandom(13);
        // The last runs inline up to 5 rows and on the pool from 6 (PARALLEL_MACS); the others inline.
        int[][] shapes = {{1, 5}, {7, 11}, {33, 13}, {130, 300}, {517, 700}, {1500, 70}};
        assertTrue(517L * 700 * 5 < JvVectorKernels.PARALLEL_MACS);
        assertTrue(517L * 700 * 6 >= JvVectorKernels.PARALLEL_MACS);
        for (int[] shape : shapes) {
            int in = shape[0];
            int out = shape[1];
            float[] x9 = random(rnd, 9 * in, -1, 1);
            float[] w = random(rnd, out * in, -1, 1);
            float[] bias = random(rnd, out, -1, 1);
            float[] ref = new float[9 * out];
            new JvVectorKernels(sp, null).linear(x9, 0, 9, in, w, bias, out, ref, 0);
            for (ForkJoinPool pool : new ForkJoinPool[] {null, pool1, pool2, pool4}) {
                JvKernels k = new JvVectorKernels(sp, pool);
                for (int rows = 1; rows <= 9; rows++) {
                    int start = rnd.nextInt(9 - rows + 1);
                    int xOff = rnd.nextInt(7);
                    int yOff = rnd.nextInt(7);
                    float[] x = new float[xOff + rows * in];
                    System.arraycopy(x9, start * in, x, xOff, rows * in);
                    float[] y = new float[yOff + rows * out];
                    k.linear(x, xOff, rows, in, w, bias, out, y, yOff);
                    float[] expected = Arrays.copyOfRange(ref, start * out, (start + rows) * out);
                    float[] actual = Arrays.copyOfRange(y, yOff, yOff + rows * out);
                    assertTrue(Arrays.equals(expected, actual), "in=" + in + " out=" + out + " rows=" + rows
                            + " start=" + start + " threads=" + (pool == null ? 0 : pool.getParallelism()));
                }
            }
        }
    }

    /** Interpreted, C1- and C2-compiled runs of the same call give the same bits. */
    @Test
    void linearIsStableAcrossJitTiers() {
        SplittableRandom rnd = new SplittableRandom(14);
        JvKernels k = new JvVectorKernels(null);
        float[] x = random(rnd, 5 * 37, -1, 1);
        float[] w = random(rnd, 7 * 37, -1, 1);
        float[] first = new float[35];
        k.linear(x, 0, 5, 37, w, null, 7, first, 0);
        float[] y = new float[35];
        for (int it = 0; it < 20_000; it++) {
            k.linear(x, 0, 5, 37, w, null, 7, y, 0);
        }
        assertArrayEquals(first, y);
    }

    // ------------------------------------------------------------------ conv2d

    /** One 3x3 channel, 3x3 kernel, stride 2, padding 1: each output sees a 2x2 corner of the input. */
    @Test
    void conv2dHandComputed() {
        float[] in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        float[] weight = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        // out[0,0] = 1*5 + 2*6 + 4*8 + 5*9; out[0,1] = 2*4 + 3*5 + 5*7 + 6*8; and symmetrically.
        float[] expected = {94, 106, 106, 94};
        for (JvKernels k : List.of(NAIVE, new JvVectorKernels(null), new JvVectorKernels(FloatVector.SPECIES_128,
                pool2))) {
            float[] out = new float[4];
            JvWeights w = k.packConv(weight, 1, 1, 3);
            assertEquals(9, w.in());
            k.conv2d(in, 3, 3, w, 2, 1, null, null, null, false, out, 2, 2);
            assertArrayEquals(expected, out, k.name());
            // Affine 0.5x - 50, a residual of 1, then ReLU: 47 - 50 + 1 < 0, 53 - 50 + 1 = 4.
            k.conv2d(in, 3, 3, w, 2, 1, new float[] {0.5f}, new float[] {-50}, new float[] {1, 1, 1, 1}, true,
                    out, 2, 2);
            assertArrayEquals(new float[] {0, 4, 4, 0}, out, k.name() + " with epilogue");
        }
    }

    @ParameterizedTest
    @MethodSource("species")
    void conv2dMatchesReferenceOverOddShapes(String speciesName) {
        JvKernels vec = new JvVectorKernels(speciesNamed(speciesName), null);
        SplittableRandom rnd = new SplittableRandom(21);
        int checked = 0;
        for (int inC : new int[] {1, 2, 3, 5}) {
            for (int[] hw : new int[][] {{1, 1}, {5, 7}, {9, 9}, {12, 5}}) {
                for (int kernel : new int[] {1, 3, 5, 7}) {
                    for (int stride : new int[] {1, 2, 3}) {
                        for (int pad : new int[] {0, 1, 3}) {
                            for (int outC : new int[] {1, 3, 4, 8}) {
                                if (checkConv(vec, rnd, inC, hw[0], hw[1], kernel, stride, pad, outC,
                                        (checked & 1) == 0)) {
                                    checked++;
                                }
                            }
                        }
                    }
                }
            }
        }
        assertTrue(checked > 1000, "shapes checked: " + checked);
    }

    @Test
    void conv2dMatchesReferenceOnThePool() {
        SplittableRandom rnd = new SplittableRandom(22);
        for (ForkJoinPool pool : new ForkJoinPool[] {pool2, pool4}) {
            JvKernels vec = new JvVectorKernels(pool);
            // Many row tiles over the pool; few pixels whose channels the product splits into panels.
            assertTrue(16L * 32 * 32 * 147 >= JvVectorKernels.PARALLEL_MACS);
            assertTrue(checkConv(vec, rnd, 3, 64, 64, 7, 2, 3, 16, true));
            assertTrue(256L * 16 * 576 >= JvVectorKernels.PARALLEL_MACS);
            assertTrue(checkConv(vec, rnd, 64, 4, 4, 3, 1, 1, 256, false));
            assertTrue(checkConv(vec, rnd, 200, 6, 6, 1, 1, 0, 300, true));
            // Many pixels against weights that fit in L2: tasks split the rows only, each tile of
            // rows meeting every panel (two whole, one partial) in turn.
            assertTrue(checkConv(vec, rnd, 32, 48, 48, 1, 1, 0, 130, true));
            // 600 pixels against 1 MB of weights: on two threads, two panel tasks of 512 KB each, split
            // again into eight row tasks.
            assertTrue(checkConv(vec, rnd, 256, 25, 24, 1, 1, 0, 1024, true));
        }
    }

    /**
     * A convolution may write its output over its residual: the same bits as into a separate array,
     * for one reduction block (the residual read just before each output is written), for a
     * reduction split into blocks (whose partial sums would overwrite it), with a partial last panel,
     * on the calling thread and on the pool, and in the naive control.
     */
    @Test
    void conv2dOverItsResidualGivesTheSameBits() {
        SplittableRandom rnd = new SplittableRandom(31);
        // {inC, h, w, kernel, stride, pad, outC}: a 1x1 over many pixels with a partial panel; a 3x3
        // whose 1170-long reduction splits into blocks; a strided 3x3; a 1x1 with few pixels.
        int[][] shapes = {{64, 20, 20, 1, 1, 0, 130}, {130, 9, 9, 3, 1, 1, 70}, {16, 11, 11, 3, 2, 1, 64},
            {256, 3, 3, 1, 1, 0, 256}};
        JvKernels[] kernels = {new JvVectorKernels(null), new JvVectorKernels(pool2), NAIVE};
        for (JvKernels k : kernels) {
            for (int[] s : shapes) {
                int inC = s[0], h = s[1], w = s[2], kernel = s[3], stride = s[4], pad = s[5], outC = s[6];
                int outH = (h + 2 * pad - kernel) / stride + 1;
                int outW = (w + 2 * pad - kernel) / stride + 1;
                float[] in = random(rnd, inC * h * w, -1, 1);
                JvWeights weight = k.packConv(random(rnd, outC * inC * kernel * kernel, -1, 1), outC, inC, kernel);
                float[] scale = random(rnd, outC, 0.5, 1.5);
                float[] shift = random(rnd, outC, -1, 1);
                float[] res = random(rnd, outC * outH * outW, -1, 1);
                float[] separate = new float[res.length];
                k.conv2d(in, h, w, weight, stride, pad, scale, shift, res, true, separate, outH, outW);
                float[] over = res.clone();
                k.conv2d(in, h, w, weight, stride, pad, scale, shift, over, true, over, outH, outW);
                assertArrayEquals(separate, over, k.name() + " " + Arrays.toString(s));
            }
        }
    }

    // ------------------------------------------------------------------ conv2d by Winograd F(2x2, 3x3)

    /**
     * A 3x3 convolution of stride 1 over at least {@link JvVectorKernels#WINOGRAD_MIN_CHANNELS} input
     * channels runs as F(2x2, 3x3) and stays within its own worst-case bound of a double reference,
     * over odd and even sides (a tile past the image's edge), channel counts off every vector width,
     * partial panels, with and without its epilogue, in every species.
     */
    @ParameterizedTest
    @MethodSource("species")
    void winogradConv2dMatchesReferenceWithinItsBound(String speciesName) {
        JvVectorKernels vec = new JvVectorKernels(speciesNamed(speciesName), null);
        SplittableRandom rnd = new SplittableRandom(41);
        int min = JvVectorKernels.WINOGRAD_MIN_CHANNELS;
        int checked = 0;
        for (int inC : new int[] {min, min + 3}) {
            for (int[] hw : new int[][] {{1, 1}, {2, 2}, {5, 7}, {8, 3}}) {
                for (int outC : new int[] {1, 19, 70}) {
                    checkWinograd(vec, rnd, inC, hw[0], hw[1], outC, (checked & 1) == 0);
                    checked++;
                }
            }
        }
        assertEquals(24, checked);
    }

    /** The same on the pool, where the 16 products split their rows too, and at a layer-3 ResNet shape. */
    @Test
    void winogradConv2dMatchesReferenceOnThePool() {
        SplittableRandom rnd = new SplittableRandom(42);
        for (ForkJoinPool pool : new ForkJoinPool[] {pool2, pool4}) {
            JvVectorKernels vec = new JvVectorKernels(pool);
            checkWinograd(vec, rnd, 130, 13, 10, 66, true);
        }
        checkWinograd(new JvVectorKernels(pool2), rnd, 256, 30, 30, 256, true);
    }

    /**
     * Winograd's convolution is deterministic: the same bits on the calling thread and on pools of
     * two and four threads, and over its residual as into a separate array.
     */
    @Test
    void winogradConv2dGivesTheSameBitsOnAnyPoolAndOverItsResidual() {
        SplittableRandom rnd = new SplittableRandom(43);
        int inC = 136;
        int h = 11;
        int w = 14;
        int outC = 72;
        float[] in = random(rnd, inC * h * w, -1, 1);
        float[] weight = random(rnd, outC * inC * 9, -1, 1);
        float[] scale = random(rnd, outC, 0.5, 1.5);
        float[] shift = random(rnd, outC, -1, 1);
        float[] res = random(rnd, outC * h * w, -1, 1);
        float[] first = null;
        for (ForkJoinPool pool : new ForkJoinPool[] {null, pool2, pool4}) {
            JvVectorKernels k = new JvVectorKernels(pool);
            JvWeights packed = k.packConv(weight, outC, inC, 3, 1, 1);
            assertNotNull(packed.winograd, "packed for Winograd");
            float[] separate = new float[res.length];
            k.conv2d(in, h, w, packed, 1, 1, scale, shift, res, true, separate, h, w);
            float[] over = res.clone();
            k.conv2d(in, h, w, packed, 1, 1, scale, shift, over, true, over, h, w);
            assertArrayEquals(separate, over, "over its residual, pool " + pool);
            if (first == null) {
                first = separate;
            } else {
                assertArrayEquals(first, separate, "pool " + pool + " against the calling thread");
            }
        }
    }

    /**
     * Only a 3x3 kernel of stride 1 and padding 1 over enough channels is packed for Winograd; any
     * other shape keeps the exact fused multiply-add chain (the same bits as weights packed for any
     * stride), and Winograd's weights refuse another stride or padding.
     */
    @Test
    void winogradIsChosenOnlyWhereItApplies() {
        JvVectorKernels k = new JvVectorKernels(null);
        SplittableRandom rnd = new SplittableRandom(44);
        int min = JvVectorKernels.WINOGRAD_MIN_CHANNELS;
        // {inC, kernel, stride, pad}: too few channels; stride 2; padding 0; a 1x1 kernel.
        int[][] exact = {{min - 1, 3, 1, 1}, {min, 3, 2, 1}, {min, 3, 1, 0}, {min, 1, 1, 0}};
        for (int[] s : exact) {
            int inC = s[0], kernel = s[1], stride = s[2], pad = s[3];
            int h = 6;
            int outH = (h + 2 * pad - kernel) / stride + 1;
            float[] in = random(rnd, inC * h * h, -1, 1);
            float[] weight = random(rnd, 8 * inC * kernel * kernel, -1, 1);
            JvWeights chosen = k.packConv(weight, 8, inC, kernel, stride, pad);
            assertNull(chosen.winograd, Arrays.toString(s));
            float[] a = new float[8 * outH * outH];
            float[] b = new float[a.length];
            k.conv2d(in, h, h, chosen, stride, pad, null, null, null, false, a, outH, outH);
            k.conv2d(in, h, h, k.packConv(weight, 8, inC, kernel), stride, pad, null, null, null, false, b, outH,
                    outH);
            assertArrayEquals(b, a, Arrays.toString(s));
        }
        JvWeights wino = k.packConv(random(rnd, 8 * min * 9, -1, 1), 8, min, 3, 1, 1);
        assertNotNull(wino.winograd);
        float[] in = random(rnd, min * 36, -1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.conv2d(in, 6, 6, wino, 2, 1, null, null, null, false, new float[8 * 9], 3, 3));
        assertTrue(e.getMessage().contains("stride 1 and padding 1"), e.getMessage());
        // A smaller output than the image, which the direct path would crop to, is refused, not overrun.
        float[] small = sentinels(8 * 16 + 2);
        IllegalArgumentException crop = assertThrows(IllegalArgumentException.class,
                () -> k.conv2d(in, 6, 6, wino, 1, 1, null, null, null, false, small, 4, 4));
        assertTrue(crop.getMessage().contains("6x6 output, not 4x4"), crop.getMessage());
        assertUntouched(small, 0, 0, "refused Winograd convolution");
        // The control ignores the stride it is told: its weights are the definition.
        assertNull(NAIVE.packConv(random(rnd, 8 * min * 9, -1, 1), 8, min, 3, 1, 1).winograd);
    }

    /** F(2x2, 3x3)'s {@code A^T}, {@code B^T} and {@code G}. */
    private static final double[][] WINO_AT = {{1, 1, 1, 0}, {0, 1, -1, -1}};
    private static final double[][] WINO_BT = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    private static final double[][] WINO_G = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};

    /**
     * Checks a Winograd convolution against a double reference. Its error bound, for output pixel
     * {@code (p, q)} of its tile: {@code (inC + 8) * 2^-24 * sum_xi |A_p i| |A_q j| sum_ic |U| |V|},
     * with {@code |V|} the input transform of {@code |d|} under {@code |B|}: two roundings in the input
     * transform, one in the weights, {@code inC} in the products, four in the output transform, each
     * at most an ulp of a partial sum that the absolute terms bound. Then the epilogue's, as in
     * {@link #checkConv}.
     */
    private static void checkWinograd(JvVectorKernels vec, SplittableRandom rnd, int inC, int h, int w, int outC,
            boolean epilogue) {
        float[] in = random(rnd, inC * h * w, -1, 1);
        float[] weight = random(rnd, outC * inC * 9, -1, 1);
        float[] scale = epilogue ? random(rnd, outC, 0.5, 1.5) : null;
        float[] shift = epilogue ? random(rnd, outC, -1, 1) : null;
        float[] res = epilogue ? random(rnd, outC * h * w, -1, 1) : null;
        JvWeights packed = vec.packConv(weight, outC, inC, 3, 1, 1);
        assertNotNull(packed.winograd, "packed for Winograd");
        float[] out = sentinels(outC * h * w + 2);
        vec.conv2d(in, h, w, packed, 1, 1, scale, shift, res, epilogue, out, h, w);
        String what = "winograd inC=" + inC + " " + h + "x" + w + " outC=" + outC + " epilogue=" + epilogue;
        assertUntouched(out, 0, outC * h * w, what);
        // |U| per (oc, ic, point), exact in double.
        double[] absU = new double[outC * inC * 16];
        for (int oc = 0; oc < outC; oc++) {
            for (int ic = 0; ic < inC; ic++) {
                int g = (oc * inC + ic) * 9;
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 4; j++) {
                        double u = 0;
                        for (int a = 0; a < 3; a++) {
                            for (int b = 0; b < 3; b++) {
                                u += WINO_G[i][a] * weight[g + a * 3 + b] * WINO_G[j][b];
                            }
                        }
                        absU[(oc * inC + ic) * 16 + i * 4 + j] = Math.abs(u);
                    }
                }
            }
        }
        double[] absV = new double[inC * 16];
        for (int oy = 0; oy < h; oy++) {
            for (int ox = 0; ox < w; ox++) {
                int ty = oy / 2;
                int tx = ox / 2;
                int p = oy % 2;
                int q = ox % 2;
                // |V| of this tile: |B^T| |d| |B| over its 4x4 patch (zero outside the image).
                for (int ic = 0; ic < inC; ic++) {
                    for (int i = 0; i < 4; i++) {
                        for (int j = 0; j < 4; j++) {
                            double s = 0;
                            for (int a = 0; a < 4; a++) {
                                for (int b = 0; b < 4; b++) {
                                    int iy = 2 * ty - 1 + a;
                                    int ix = 2 * tx - 1 + b;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        s += Math.abs(WINO_BT[i][a] * WINO_BT[j][b] * in[(iy * w + ix) * inC + ic]);
                                    }
                                }
                            }
                            absV[ic * 16 + i * 4 + j] = s;
                        }
                    }
                }
                for (int oc = 0; oc < outC; oc++) {
                    double ref = 0;
                    for (int ic = 0; ic < inC; ic++) {
                        for (int ky = 0; ky < 3; ky++) {
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = oy + ky - 1;
                                int ix = ox + kx - 1;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    ref += (double) weight[((oc * inC + ic) * 3 + ky) * 3 + kx]
                                            * in[(iy * w + ix) * inC + ic];
                                }
                            }
                        }
                    }
                    double abs = 0;
                    for (int xi = 0; xi < 16; xi++) {
                        double a = Math.abs(WINO_AT[p][xi / 4] * WINO_AT[q][xi % 4]);
                        if (a == 0) {
                            continue;
                        }
                        double sum = 0;
                        for (int ic = 0; ic < inC; ic++) {
                            sum += absU[(oc * inC + ic) * 16 + xi] * absV[ic * 16 + xi];
                        }
                        abs += a * sum;
                    }
                    double tol = (inC + 8) * U * abs;
                    int at = (oy * w + ox) * outC + oc;
                    if (epilogue) {
                        ref = ref * scale[oc] + shift[oc] + res[at];
                        tol = tol * scale[oc] + 4 * U * (Math.abs(ref) + Math.abs(shift[oc]) + Math.abs(res[at]));
                        ref = Math.max(0, ref);
                    }
                    assertEquals(ref, out[at], tol, what + " at " + oy + "," + ox + "," + oc);
                }
            }
        }
    }

    /**
     * Checks a convolution (channels-last, through the packed weights) against a double reference,
     * with a random affine, residual and ReLU when {@code epilogue}; returns false when the shape has
     * no output.
     */
    private static boolean checkConv(JvKernels vec, SplittableRandom rnd, int inC, int h, int w, int kernel,
            int stride, int pad, int outC, boolean epilogue) {
        if (h + 2 * pad < kernel || w + 2 * pad < kernel) {
            return false;
        }
        int outH = (h + 2 * pad - kernel) / stride + 1;
        int outW = (w + 2 * pad - kernel) / stride + 1;
        float[] in = random(rnd, inC * h * w, -1, 1);
        float[] weight = random(rnd, outC * inC * kernel * kernel, -1, 1);
        float[] scale = epilogue ? random(rnd, outC, 0.5, 1.5) : null;
        float[] shift = epilogue ? random(rnd, outC, -1, 1) : null;
        float[] res = epilogue ? random(rnd, outC * outH * outW, -1, 1) : null;
        float[] ov = sentinels(outC * outH * outW + 2);
        float[] on = sentinels(ov.length);
        vec.conv2d(in, h, w, vec.packConv(weight, outC, inC, kernel), stride, pad, scale, shift, res, epilogue, ov,
                outH, outW);
        NAIVE.conv2d(in, h, w, NAIVE.packConv(weight, outC, inC, kernel), stride, pad, scale, shift, res, epilogue,
                on, outH, outW);
        String what = "conv inC=" + inC + " " + h + "x" + w + " k=" + kernel + " s=" + stride + " p=" + pad
                + " outC=" + outC + " epilogue=" + epilogue;
        assertUntouched(ov, 0, outC * outH * outW, what);
        int n = inC * kernel * kernel;
        for (int oy = 0; oy < outH; oy++) {
            for (int ox = 0; ox < outW; ox++) {
                for (int oc = 0; oc < outC; oc++) {
                    double ref = 0;
                    double abs = 0;
                    for (int ic = 0; ic < inC; ic++) {
                        for (int ky = 0; ky < kernel; ky++) {
                            for (int kx = 0; kx < kernel; kx++) {
                                int iy = oy * stride + ky - pad;
                                int ix = ox * stride + kx - pad;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    double p = (double) weight[((oc * inC + ic) * kernel + ky) * kernel + kx]
                                            * in[(iy * w + ix) * inC + ic];
                                    ref += p;
                                    abs += Math.abs(p);
                                }
                            }
                        }
                    }
                    double tol = (n + 2) * U * abs;
                    int at = (oy * outW + ox) * outC + oc;
                    if (epilogue) {
                        ref = ref * scale[oc] + shift[oc] + res[at];
                        tol = tol * scale[oc] + 4 * U * (Math.abs(ref) + Math.abs(shift[oc]) + Math.abs(res[at]));
                        ref = Math.max(0, ref);
                    }
                    assertEquals(ref, ov[at], tol, what + " at " + oy + "," + ox + "," + oc);
                    assertEquals(ref, on[at], tol, what + " (naive) at " + oy + "," + ox + "," + oc);
                }
            }
        }
        return true;
    }

    /**
     * A convolution's output is the fused multiply-add chain over {@code (ky, kx, ic)}, zero padding
     * included, then the epilogue: bitwise, whatever path (plain rows, in-place receptive fields)
     * computes it.
     */
    @ParameterizedTest
    @MethodSource("species")
    void conv2dIsTheFmaChainInReductionOrderBitwise(String speciesName) {
        SplittableRandom rnd = new SplittableRandom(24);
        JvKernels vec = new JvVectorKernels(speciesNamed(speciesName), pool2);
        // {inC, h, w, kernel, stride, pad, outC}
        int[][] shapes = {{3, 20, 17, 7, 2, 3, 19}, {8, 9, 9, 3, 1, 1, 70}, {16, 8, 8, 1, 1, 0, 33},
            {16, 8, 8, 1, 2, 0, 8}, {130, 5, 5, 3, 1, 1, 5}};
        for (int[] sh : shapes) {
            int inC = sh[0];
            int h = sh[1];
            int w = sh[2];
            int kernel = sh[3];
            int stride = sh[4];
            int pad = sh[5];
            int outC = sh[6];
            int outH = (h + 2 * pad - kernel) / stride + 1;
            int outW = (w + 2 * pad - kernel) / stride + 1;
            float[] in = random(rnd, inC * h * w, -1, 1);
            float[] weight = random(rnd, outC * inC * kernel * kernel, -1, 1);
            float[] scale = random(rnd, outC, 0.5, 1.5);
            float[] shift = random(rnd, outC, -1, 1);
            float[] res = random(rnd, outC * outH * outW, -1, 1);
            float[] out = new float[outC * outH * outW];
            vec.conv2d(in, h, w, vec.packConv(weight, outC, inC, kernel), stride, pad, scale, shift, res, true, out,
                    outH, outW);
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++) {
                    for (int oc = 0; oc < outC; oc++) {
                        float acc = 0;
                        for (int ky = 0; ky < kernel; ky++) {
                            for (int kx = 0; kx < kernel; kx++) {
                                for (int ic = 0; ic < inC; ic++) {
                                    int iy = oy * stride + ky - pad;
                                    int ix = ox * stride + kx - pad;
                                    boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                                    acc = Math.fma(inside ? in[(iy * w + ix) * inC + ic] : 0f,
                                            weight[((oc * inC + ic) * kernel + ky) * kernel + kx], acc);
                                }
                            }
                        }
                        int at = (oy * outW + ox) * outC + oc;
                        float v = acc * scale[oc] + shift[oc] + res[at];
                        v = v < 0f ? 0f : v;
                        assertEquals(Float.floatToIntBits(v), Float.floatToIntBits(out[at]),
                                Arrays.toString(sh) + " at " + oy + "," + ox + "," + oc);
                    }
                }
            }
        }
    }

    /** A channel's output does not depend on how many channels share the call or on the thread count. */
    @ParameterizedTest
    @MethodSource("species")
    void conv2dIsBitwiseInvariantToChannelsAndThreads(String speciesName) {
        VectorSpecies<Float> sp = speciesNamed(speciesName);
        SplittableRandom rnd = new SplittableRandom(23);
        // {inC, h, w, kernel, stride, pad, outC}: inline; many row tiles, on the pool from 10
        // channels up; few pixels whose channels split into panels over the pool.
        int[][] shapes = {{5, 7, 9, 3, 2, 0, 4}, {16, 40, 40, 3, 1, 1, 12}, {64, 4, 4, 3, 1, 1, 256}};
        assertTrue(10L * 1600 * 144 >= JvVectorKernels.PARALLEL_MACS);
        assertTrue(9L * 1600 * 144 < JvVectorKernels.PARALLEL_MACS);
        assertTrue(256L * 16 * 576 >= JvVectorKernels.PARALLEL_MACS);
        for (int[] s : shapes) {
            int inC = s[0];
            int h = s[1];
            int w = s[2];
            int kernel = s[3];
            int stride = s[4];
            int pad = s[5];
            int outC = s[6];
            int outH = (h + 2 * pad - kernel) / stride + 1;
            int outW = (w + 2 * pad - kernel) / stride + 1;
            int plane = outH * outW;
            int kk = inC * kernel * kernel;
            float[] in = random(rnd, inC * h * w, -1, 1);
            float[] weight = random(rnd, outC * kk, -1, 1);
            float[] ref = new float[outC * plane];
            JvKernels one = new JvVectorKernels(sp, null);
            one.conv2d(in, h, w, one.packConv(weight, outC, inC, kernel), stride, pad, null, null, null, false, ref,
                    outH, outW);
            for (ForkJoinPool pool : new ForkJoinPool[] {null, pool1, pool2, pool4}) {
                JvKernels k = new JvVectorKernels(sp, pool);
                for (int m : channelCounts(outC)) {
                    float[] out = new float[m * plane];
                    k.conv2d(in, h, w, k.packConv(Arrays.copyOf(weight, m * kk), m, inC, kernel), stride, pad, null,
                            null, null, false, out, outH, outW);
                    for (int p = 0; p < plane; p++) {
                        assertTrue(Arrays.equals(Arrays.copyOfRange(ref, p * outC, p * outC + m),
                                Arrays.copyOfRange(out, p * m, (p + 1) * m)), "shape=" + Arrays.toString(s)
                                + " channels=" + m + " pixel=" + p + " threads="
                                + (pool == null ? 0 : pool.getParallelism()));
                    }
                }
            }
        }
    }

    /** 1 to 12 channels, or a spread of counts up to a larger {@code outC}. */
    private static int[] channelCounts(int outC) {
        if (outC <= 12) {
            return IntStream.rangeClosed(1, outC).toArray();
        }
        return new int[] {1, 2, 3, 5, 9, outC / 2, outC - 1, outC};
    }

    // ------------------------------------------------------------------ layerNorm

    @Test
    void layerNormHandComputed() {
        float[] x = {1, 2, 3, 4};
        float[] gamma = {1, 1, 2, 1};
        float[] beta = {0, 0, 0, 10};
        // mean 2.5, biased variance 1.25.
        double s = Math.sqrt(1.25);
        double[] expected = {-1.5 / s, -0.5 / s, 2 * 0.5 / s, 1.5 / s + 10};
        for (JvKernels k : List.of(NAIVE, new JvVectorKernels(null), new JvVectorKernels(FloatVector.SPECIES_128,
                null))) {
            float[] y = new float[4];
            k.layerNorm(x, 0, 1, 4, gamma, beta, 0f, y, 0);
            for (int i = 0; i < 4; i++) {
                assertEquals(expected[i], y[i], 2e-6, k.name() + " at " + i);
            }
        }
    }

    /**
     * Tolerance: 3e-6 * (1 + |y|) against the double control, a few float ulps of the output's terms
     * (the worst seen over widths up to 4096 is 1.1e-6); inputs centred off zero.
     */
    @ParameterizedTest
    @MethodSource("species")
    void layerNormMatchesNaive(String speciesName) {
        JvKernels vec = new JvVectorKernels(speciesNamed(speciesName), null);
        SplittableRandom rnd = new SplittableRandom(31);
        for (int dim : new int[] {1, 2, 3, 7, 8, 16, 17, 31, 33, 130, 768}) {
            for (int rows : new int[] {1, 3}) {
                for (double centre : new double[] {0, 0.5, 4}) {
                    int xOff = rnd.nextInt(5);
                    int yOff = rnd.nextInt(5);
                    float[] x = random(rnd, xOff + rows * dim, centre - 1, centre + 1);
                    float[] gamma = random(rnd, dim, 0.5, 1.5);
                    float[] beta = random(rnd, dim, -0.5, 0.5);
                    float[] yv = sentinels(yOff + rows * dim + 2);
                    float[] yn = new float[yv.length];
                    vec.layerNorm(x, xOff, rows, dim, gamma, beta, 1e-5f, yv, yOff);
                    NAIVE.layerNorm(x, xOff, rows, dim, gamma, beta, 1e-5f, yn, yOff);
                    String what = "layerNorm dim=" + dim + " rows=" + rows + " centre=" + centre;
                    assertUntouched(yv, yOff, yOff + rows * dim, what);
                    for (int i = yOff; i < yOff + rows * dim; i++) {
                        assertEquals(yn[i], yv[i], 3e-6 * (1 + Math.abs(yn[i])), what + " at " + i);
                    }
                    // In place: x and y the same array at the same offset.
                    float[] xy = x.clone();
                    vec.layerNorm(xy, xOff, rows, dim, gamma, beta, 1e-5f, xy, xOff);
                    assertArrayEquals(Arrays.copyOfRange(yv, yOff, yOff + rows * dim),
                            Arrays.copyOfRange(xy, xOff, xOff + rows * dim), what + " in place");
                }
            }
        }
    }

    /** Two passes keep the variance accurate when the mean dwarfs the spread. */
    @Test
    void layerNormWithLargeMean() {
        SplittableRandom rnd = new SplittableRandom(32);
        int dim = 768;
        float[] x = random(rnd, dim, 99, 101);
        float[] ones = new float[dim];
        Arrays.fill(ones, 1);
        float[] zeros = new float[dim];
        float[] yv = new float[dim];
        float[] yn = new float[dim];
        new JvVectorKernels(null).layerNorm(x, 0, 1, dim, ones, zeros, 1e-5f, yv, 0);
        NAIVE.layerNorm(x, 0, 1, dim, ones, zeros, 1e-5f, yn, 0);
        for (int i = 0; i < dim; i++) {
            assertEquals(yn[i], yv[i], 2e-5, "at " + i);
        }
    }

    // ------------------------------------------------------------------ gelu

    /**
     * Tolerance: 1e-6 relative (the worst seen is 4.4e-7, near x = -3.6), plus 1e-14 absolute: the
     * control's own error in the far negative tail, where 1 + erf cancels.
     */
    @ParameterizedTest
    @MethodSource("species")
    void geluMatchesExactGelu(String speciesName) {
        JvKernels vec = new JvVectorKernels(speciesNamed(speciesName), null);
        SplittableRandom rnd = new SplittableRandom(41);
        float[] special = {0f, -0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 0.5f, -0.5f, 1, -1, 3, -3, 5.5f, -5.5f, 8, -8,
            9.5f, -9.5f, 13, -13, 16, -16, 20, -20, 1e4f, -1e4f, Float.MAX_VALUE, -Float.MAX_VALUE};
        checkGelu(vec, special, 0, special.length, "special");
        double worst = 0;
        for (int len : new int[] {1, 2, 3, 7, 15, 16, 17, 31, 33, 130, 1000}) {
            int off = rnd.nextInt(5);
            float[] x = random(rnd, off + len + 3, -12, 12);
            worst = Math.max(worst, checkGelu(vec, x, off, len, "len=" + len));
        }
        float[] dense = new float[24001];
        for (int i = 0; i < dense.length; i++) {
            dense[i] = (i - 12000) / 1000f;
        }
        worst = Math.max(worst, checkGelu(vec, dense, 0, dense.length, "grid"));
        assertTrue(worst > 0, "a non-trivial comparison was made");
    }

    /** Returns the worst relative error seen. */
    private static double checkGelu(JvKernels vec, float[] x, int off, int len, String what) {
        float[] xv = x.clone();
        float[] xn = x.clone();
        vec.gelu(xv, off, len);
        NAIVE.gelu(xn, off, len);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            if (i < off || i >= off + len) {
                assertEquals(x[i], xv[i], 0f, what + ": wrote outside its range at " + i);
                continue;
            }
            double ref = JvMath.gelu(x[i]);
            double tol = 1e-6 * Math.abs(ref) + 1e-14;
            assertEquals(ref, xv[i], tol, what + " gelu(" + x[i] + ")");
            assertEquals(xn[i], xv[i], tol + Math.ulp(xn[i]), what + " vs naive at " + x[i]);
            if (Math.abs(ref) > 1e-30) {
                worst = Math.max(worst, Math.abs(xv[i] - ref) / Math.abs(ref));
            }
        }
        return worst;
    }

    @Test
    void geluIsBitwiseInvariantToOffset() {
        SplittableRandom rnd = new SplittableRandom(42);
        JvKernels vec = new JvVectorKernels(null);
        float[] x = random(rnd, 67, -6, 6);
        float[] all = x.clone();
        vec.gelu(all, 0, all.length);
        for (int off = 0; off < 20; off++) {
            for (int len : new int[] {1, 5, 17, 40}) {
                float[] part = x.clone();
                vec.gelu(part, off, len);
                assertArrayEquals(Arrays.copyOfRange(all, off, off + len), Arrays.copyOfRange(part, off, off + len));
            }
        }
    }

    // ------------------------------------------------------------------ attention

    @Test
    void attentionHandComputed() {
        float ln3 = (float) Math.log(3);
        float[] q = {1, 1};
        float[] k = {0, ln3};
        float[] v = {4, 8};
        for (JvKernels kern : List.of(NAIVE, new JvVectorKernels(null), new JvVectorKernels(FloatVector.SPECIES_128,
                null))) {
            float[] out = new float[2];
            // Scores 0 and ln 3: softmax 1/4, 3/4, so 4/4 + 8*3/4 = 7.
            kern.attention(q, 0, 1, k, 0, 1, v, 0, 1, 1, 2, 1, null, 0, 0, false, 0, out, 0, 1);
            assertEquals(7, out[0], 1e-5, kern.name());
            // A bias of ln 3 on the first key evens the scores: 6.
            kern.attention(q, 0, 1, k, 0, 1, v, 0, 1, 1, 2, 1, new float[] {ln3, 0}, 0, 2, false, 0, out, 0, 1);
            assertEquals(6, out[0], 1e-5, kern.name() + " with bias");
            // Causal: query 0 sees key 0 only, query 1 sees both.
            kern.attention(q, 0, 1, k, 0, 1, v, 0, 1, 2, 2, 1, null, 0, 0, true, 0, out, 0, 1);
            assertEquals(4, out[0], 0f, kern.name() + " causal row 0");
            assertEquals(7, out[1], 1e-5, kern.name() + " causal row 1");
            // Offset -1: query 0 sees nothing (an all-zero row), query 1 sees key 0.
            kern.attention(q, 0, 1, k, 0, 1, v, 0, 1, 2, 2, 1, null, 0, 0, true, -1, out, 0, 1);
            assertArrayEquals(new float[] {0, 4}, out, kern.name() + " causal offset -1");
        }
    }

    /** Tolerance: 2e-6 absolute; values lie in [-1, 1] and outputs are convex combinations of them. */
    @ParameterizedTest
    @MethodSource("species")
    void attentionMatchesNaive(String speciesName) {
        JvKernels vec = new JvVectorKernels(speciesNamed(speciesName), null);
        SplittableRandom rnd = new SplittableRandom(51);
        int checked = 0;
        for (int nq : new int[] {1, 3, 5}) {
            for (int nk : new int[] {1, 2, 7, 17, 33}) {
                for (int headDim : new int[] {1, 3, 8, 17, 64, 65}) {
                    for (int variant = 0; variant < 6; variant++) {
                        boolean withBias = (variant & 1) != 0;
                        boolean causal = variant >= 2;
                        int causalOffset = variant >= 4 ? nk - nq : 0;
                        checkAttention(vec, rnd, nq, nk, headDim, withBias, causal, causalOffset);
                        checked++;
                    }
                }
            }
        }
        checkAttention(vec, rnd, 40, 900, 64, true, false, 0);
        checkAttention(vec, rnd, 7, 9, 64, false, true, 2);
        assertEquals(540, checked);
    }

    private static void checkAttention(JvKernels vec, SplittableRandom rnd, int nq, int nk, int headDim,
            boolean withBias, boolean causal, int causalOffset) {
        int stride = headDim + 3;
        int qOff = rnd.nextInt(4);
        int kOff = rnd.nextInt(4);
        int vOff = rnd.nextInt(4);
        int outOff = rnd.nextInt(4);
        int biasOff = rnd.nextInt(4);
        double scale = 3 / Math.sqrt(headDim);
        float[] q = random(rnd, qOff + nq * stride, -scale, scale);
        float[] k = random(rnd, kOff + nk * stride, -1, 1);
        float[] v = random(rnd, vOff + nk * stride, -1, 1);
        float[] bias = withBias ? random(rnd, biasOff + nq * (nk + 1), -2, 2) : null;
        float[] ov = sentinels(outOff + nq * (headDim + 1) + 1);
        float[] on = sentinels(ov.length);
        vec.attention(q, qOff, stride, k, kOff, stride, v, vOff, stride, nq, nk, headDim, bias, biasOff, nk + 1,
                causal, causalOffset, ov, outOff, headDim + 1);
        NAIVE.attention(q, qOff, stride, k, kOff, stride, v, vOff, stride, nq, nk, headDim, bias, biasOff, nk + 1,
                causal, causalOffset, on, outOff, headDim + 1);
        String what = "attention nq=" + nq + " nk=" + nk + " d=" + headDim + " bias=" + withBias + " causal="
                + causal + "/" + causalOffset;
        for (int i = 0; i < ov.length; i++) {
            int rel = i - outOff;
            boolean written = rel >= 0 && rel < nq * (headDim + 1) && rel % (headDim + 1) < headDim;
            if (written) {
                assertEquals(on[i], ov[i], 2e-6, what + " at " + i);
            } else {
                assertEquals(SENTINEL, ov[i], 0f, what + ": wrote outside its rows at " + i);
            }
        }
    }

    /**
     * A query row gives the same bits alone (with its causal offset shifted) as inside a batch of
     * several tiles, with the keys prepared once or per call, on any species; causal tiles whose
     * rows see different key counts, and rows that see none, included.
     */
    @ParameterizedTest
    @MethodSource("species")
    void attentionIsBitwiseInvariantToBatching(String speciesName) {
        SplittableRandom rnd = new SplittableRandom(52);
        JvKernels vec = new JvVectorKernels(speciesNamed(speciesName), null);
        int nq = 15;
        int nk = 37;
        int d = 40;
        float[] q = random(rnd, nq * d, -0.5, 0.5);
        float[] k = random(rnd, nk * d, -1, 1);
        float[] v = random(rnd, nk * d, -1, 1);
        float[] bias = random(rnd, nq * nk, -1, 1);
        JvKeys keys = vec.keys(k, 0, d, nk, d);
        assertEquals(nk, keys.count());
        for (int offset : new int[] {30, 3, -4}) {
            for (boolean causal : new boolean[] {false, true}) {
                float[] all = new float[nq * d];
                vec.attention(q, 0, d, keys, v, 0, d, nq, bias, 0, nk, causal, offset, all, 0, d);
                for (int i = 0; i < nq; i++) {
                    float[] one = new float[d + 3];
                    vec.attention(q, i * d, d, k, 0, d, v, 0, d, 1, nk, d, bias, i * nk, nk, causal, offset + i, one,
                            3, d);
                    assertArrayEquals(Arrays.copyOfRange(all, i * d, (i + 1) * d), Arrays.copyOfRange(one, 3, 3 + d),
                            "query " + i + " causal=" + causal + " offset=" + offset);
                }
            }
        }
    }

    /**
     * A shape without a micro-kernel of its own (64-bit vectors here) runs the generic one, whose
     * species is not a constant: slower, the same contract.
     */
    @Test
    void otherShapesKeepTheContract() {
        JvVectorKernels k = new JvVectorKernels(FloatVector.SPECIES_64, pool2);
        assertEquals(4, k.micro().width());
        SplittableRandom rnd = new SplittableRandom(17);
        int rows = 7;
        int in = 9;
        int out = 6;
        float[] x = random(rnd, rows * in, -1, 1);
        float[] w = random(rnd, out * in, -1, 1);
        float[] y = new float[rows * out];
        k.linear(x, 0, rows, k.packLinear(w, out, in), null, y, 0);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float acc = 0;
                for (int i = 0; i < in; i++) {
                    acc = Math.fma(x[r * in + i], w[o * in + i], acc);
                }
                assertEquals(Float.floatToIntBits(acc), Float.floatToIntBits(y[r * out + o]), r + "," + o);
            }
        }
        assertTrue(checkConv(k, rnd, 3, 7, 6, 3, 2, 1, 5, true));
        checkAttention(k, rnd, 7, 11, 5, true, true, 2);
    }

    /** A bias stride of 0 gives every query the same bias row. */
    @Test
    void attentionWithASharedBiasRow() {
        SplittableRandom rnd = new SplittableRandom(53);
        int nq = 4;
        int nk = 9;
        int d = 8;
        float[] q = random(rnd, nq * d, -1, 1);
        float[] k = random(rnd, nk * d, -1, 1);
        float[] v = random(rnd, nk * d, -1, 1);
        float[] row = random(rnd, nk, -2, 2);
        float[] full = new float[nq * nk];
        for (int i = 0; i < nq; i++) {
            System.arraycopy(row, 0, full, i * nk, nk);
        }
        for (JvKernels kern : List.of(NAIVE, new JvVectorKernels(null))) {
            float[] shared = new float[nq * d];
            float[] expanded = new float[nq * d];
            kern.attention(q, 0, d, k, 0, d, v, 0, d, nq, nk, d, row, 0, 0, false, 0, shared, 0, d);
            kern.attention(q, 0, d, k, 0, d, v, 0, d, nq, nk, d, full, 0, nk, false, 0, expanded, 0, d);
            assertArrayEquals(expanded, shared, kern.name());
        }
    }

    @Test
    void layerNormIsBitwiseInvariantToBatching() {
        SplittableRandom rnd = new SplittableRandom(33);
        JvKernels vec = new JvVectorKernels(null);
        int dim = 131;
        float[] x = random(rnd, 5 * dim, -2, 3);
        float[] gamma = random(rnd, dim, 0.5, 1.5);
        float[] beta = random(rnd, dim, -0.5, 0.5);
        float[] all = new float[5 * dim];
        vec.layerNorm(x, 0, 5, dim, gamma, beta, 1e-5f, all, 0);
        for (int r = 0; r < 5; r++) {
            float[] one = new float[dim + 1];
            vec.layerNorm(x, r * dim, 1, dim, gamma, beta, 1e-5f, one, 1);
            assertArrayEquals(Arrays.copyOfRange(all, r * dim, (r + 1) * dim), Arrays.copyOfRange(one, 1, 1 + dim));
        }
    }

    // ------------------------------------------------------------------ cosine

    /**
     * Tolerance: 4e-6 absolute, the worst case of float sums over blocks of 64 products
     * ({@code 68 * 2^-24} relative to {@code sum |a_i b_i| <= |a| |b|}); typical errors are near 1e-8.
     */
    @ParameterizedTest
    @MethodSource("species")
    void cosineMatchesNaive(String speciesName) {
        JvKernels vec = new JvVectorKernels(speciesNamed(speciesName), null);
        SplittableRandom rnd = new SplittableRandom(61);
        for (int len : new int[] {1, 2, 3, 7, 17, 31, 33, 130, 1000}) {
            int aOff = rnd.nextInt(5);
            int bOff = rnd.nextInt(5);
            float[] a = random(rnd, aOff + len, -1, 1);
            float[] b = random(rnd, bOff + len, -1, 1);
            double expected = NAIVE.cosine(a, aOff, b, bOff, len);
            double actual = vec.cosine(a, aOff, b, bOff, len);
            assertEquals(expected, actual, 4e-6, "len=" + len);
            assertEquals(Double.doubleToLongBits(actual), Double.doubleToLongBits(vec.cosine(a, aOff, b, bOff, len)),
                    "deterministic");
            // The same direction and the opposite one.
            float[] twice = new float[len];
            float[] minus = new float[len];
            for (int i = 0; i < len; i++) {
                twice[i] = 2 * a[aOff + i];
                minus[i] = -a[aOff + i];
            }
            assertEquals(1, vec.cosine(a, aOff, twice, 0, len), 4e-6, "len=" + len);
            assertEquals(-1, vec.cosine(a, aOff, minus, 0, len), 4e-6, "len=" + len);
        }
    }

    @Test
    void cosineOfZeroVectors() {
        JvKernels vec = new JvVectorKernels(null);
        float[] zero = new float[37];
        float[] one = new float[37];
        one[36] = 1;
        assertEquals(1, vec.cosine(zero, 0, zero.clone(), 0, 37), 0);
        assertEquals(0, vec.cosine(zero, 0, one, 0, 37), 0);
        assertEquals(0, vec.cosine(one, 0, zero, 0, 37), 0);
        assertEquals(1, vec.cosine(one, 0, one, 0, 37), 0);
        assertEquals(1, vec.cosine(one, 0, one, 0, 0), 0, "empty vectors count as both zero");
    }
}
