package dev.mue.benchmarks.kernels;

import dev.mue.backend.java.kernels.JvKernels;
import dev.mue.backend.java.kernels.JvVectorKernels;
import dev.mue.backend.java.kernels.JvWeights;
import dev.mue.benchmarks.Inputs;
import dev.mue.benchmarks.Pools;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The Java backend's kernels at OFA-base's shapes at 480 px (900 image tokens, d 768, FFN 3072,
 * 12 heads of 64, ResNet101's stages), so that each can be read as a fraction of the machine's
 * measured FMA peak ({@code benchmarks/table.sh} divides {@link #flops} by the time):
 *
 * <ul>
 *   <li>{@code gemm-proj}: 900 x 768 x 768 (q, k, v, out projections);</li>
 *   <li>{@code gemm-fc1}: 900 x 768 x 3072; {@code gemm-fc2}: 900 x 3072 x 768;</li>
 *   <li>{@code conv-stem}: 7x7/2, 3 to 64 channels, 480 px to 240;</li>
 *   <li>{@code conv-3x3}: 3x3/1, 256 to 256 channels at 30 x 30 (stage 3, 23 such blocks), as
 *       the exact fused multiply-add chain over the receptive field;</li>
 *   <li>{@code conv-3x3-winograd}: the same convolution as the backend runs it, Winograd's F(2x2,
 *       3x3) (weights packed for stride 1); its FLOPs are the multiply-adds its 16 products do,
 *       {@code 2 * 16 * 225 tiles * 256 * 256}, 2.25 times fewer than direct, so that its % of peak
 *       is the hardware's, not an equivalent;</li>
 *   <li>{@code conv-1x1}: 1x1, 1024 to 256 channels at 30 x 30 (stage 3);</li>
 *   <li>{@code attention}: one encoder layer's self-attention, 12 heads of 900 queries over 900
 *       keys of 64 dimensions, read from fused {@code [q | k | v]} rows ({@code 900 x 2304}) with a
 *       bias per head ({@code [12, 900, 900]}, 39 MB, which streams from memory as the folded
 *       biases do in a pass); heads in parallel on the pool, as an encoder layer runs them.</li>
 * </ul>
 *
 * <p>Weights are packed in the trial setup, as the backend packs them when it prepares a plan;
 * convolutions run on channels-last images with their BatchNorm affine and ReLU, as in the
 * backbone; attention prepares the head's keys in every call, as an encoder layer does.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class OfaShapesBenchmark {
    /** The kernel and shape; see the class comment. */
    @Param({"gemm-proj", "gemm-fc1", "gemm-fc2", "conv-stem", "conv-3x3", "conv-3x3-winograd", "conv-1x1",
        "attention"})
    public String op;

    /** Parallelism of the pool handed to the kernels. */
    @Param({"1", "2"})
    public int threads;

    private ForkJoinPool pool;
    private JvKernels k;
    private float[] x;
    private float[] w;
    private float[] bias;
    private float[] y;
    private JvWeights packed;
    private float[] scale;
    private float[] shift;

    /** FLOPs of one call of {@code op} (a multiply-add counts 2). */
    public static long flops(String op) {
        return switch (op) {
            case "gemm-proj" -> 2L * 900 * 768 * 768;
            case "gemm-fc1", "gemm-fc2" -> 2L * 900 * 768 * 3072;
            case "conv-stem" -> 2L * 64 * 240 * 240 * 3 * 7 * 7;
            case "conv-3x3" -> 2L * 256 * 30 * 30 * 256 * 3 * 3;
            case "conv-3x3-winograd" -> 2L * 16 * 15 * 15 * 256 * 256;
            case "conv-1x1" -> 2L * 256 * 30 * 30 * 1024;
            case "attention" -> 12 * 4L * 900 * 900 * 64;
            default -> throw new IllegalArgumentException("unknown op " + op);
        };
    }

    @Setup(Level.Trial)
    public void setUp() {
        pool = new ForkJoinPool(threads);
        k = new JvVectorKernels(pool);
        switch (op) {
            case "gemm-proj" -> gemm(900, 768, 768);
            case "gemm-fc1" -> gemm(900, 768, 3072);
            case "gemm-fc2" -> gemm(900, 3072, 768);
            case "conv-stem" -> conv(3, 480, 64, 7, 240);
            case "conv-3x3" -> conv(256, 30, 256, 3, 30);
            case "conv-3x3-winograd" -> {
                conv(256, 30, 256, 3, 30);
                packed = k.packConv(w, 256, 256, 3, 1, 1);
            }
            case "conv-1x1" -> conv(1024, 30, 256, 1, 30);
            case "attention" -> {
                x = Inputs.uniform(1, 900 * 3 * 768);
                bias = Inputs.uniform(4, 12 * 900 * 900);
                y = new float[900 * 768];
            }
            default -> throw new IllegalArgumentException("unknown op " + op);
        }
    }

    private void gemm(int rows, int in, int out) {
        x = Inputs.uniform(1, rows * in);
        w = Inputs.uniform(2, out * in);
        bias = Inputs.uniform(3, out);
        y = new float[rows * out];
        packed = k.packLinear(w, out, in);
    }

    private void conv(int inC, int side, int outC, int kernel, int outSide) {
        x = Inputs.uniform(1, inC * side * side);
        w = Inputs.uniform(2, outC * inC * kernel * kernel);
        y = new float[outC * outSide * outSide];
        packed = k.packConv(w, outC, inC, kernel);
        scale = Inputs.uniform(3, outC);
        shift = Inputs.uniform(4, outC);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        Pools.close(pool);
    }

    /** One call of the kernel. */
    @Benchmark
    public void run(Blackhole bh) {
        switch (op) {
            case "gemm-proj", "gemm-fc1", "gemm-fc2" -> k.linear(x, 0, 900, packed, bias, y, 0);
            case "conv-stem" -> k.conv2d(x, 480, 480, packed, 2, 3, scale, shift, null, true, y, 240, 240);
            case "conv-3x3", "conv-3x3-winograd" -> k.conv2d(x, 30, 30, packed, 1, 1, scale, shift, null, true, y, 30, 30);
            case "conv-1x1" -> k.conv2d(x, 30, 30, packed, 1, 0, scale, shift, null, true, y, 30, 30);
            case "attention" -> pool.submit(() -> IntStream.range(0, 12).parallel().forEach(h -> k.attention(x,
                    h * 64, 3 * 768, x, 768 + h * 64, 3 * 768, x, 2 * 768 + h * 64, 3 * 768, 900, 900, 64, bias,
                    h * 900 * 900, 900, false, 0, y, h * 64, 768))).join();
            default -> throw new IllegalArgumentException("unknown op " + op);
        }
        bh.consume(y);
    }
}
