package dev.mue.benchmarks.kernels;

import dev.mue.backend.java.kernels.JvKernels;
import dev.mue.backend.java.kernels.JvNaiveKernels;
import dev.mue.backend.java.kernels.JvVectorKernels;
import dev.mue.backend.java.kernels.JvWeights;
import dev.mue.benchmarks.Inputs;
import dev.mue.benchmarks.Pools;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
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
 * Measures {@link JvKernels#linear}, the GEMM that dominates inference, for the scalar control and
 * the Vector API kernels at shapes typical of the encoder and decoder layers.
 *
 * <p>The weights are packed in the trial setup, as the backend packs them when it prepares a plan.
 * Shapes are {@code rows x in x out}: 16 tokens through a 512-wide projection, 64 tokens into a
 * feed-forward expansion, and 64 tokens back out of it. The scalar control is single-threaded, so
 * its {@code threads} variants only confirm that the pool is not used.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBenchmark {

    /** Which kernels: {@code naive} or {@code vector}. */
    @Param({"naive", "vector"})
    public String kernels;

    /** Parallelism of the pool handed to the kernels. */
    @Param({"1", "2"})
    public int threads;

    /** {@code rows x in x out}. */
    @Param({"16x512x512", "64x128x512", "64x512x128"})
    public String shape;

    private ForkJoinPool pool;
    private JvKernels k;
    private int rows;
    private int in;
    private int out;
    private float[] x;
    private float[] w;
    private JvWeights packed;
    private float[] bias;
    private float[] y;

    @Setup(Level.Trial)
    public void setUp() {
        int[] dims = Inputs.shape(shape, 3);
        rows = dims[0];
        in = dims[1];
        out = dims[2];
        x = Inputs.uniform(1, rows * in);
        w = Inputs.uniform(2, out * in);
        bias = Inputs.uniform(3, out);
        y = new float[rows * out];
        pool = new ForkJoinPool(threads);
        k = switch (kernels) {
            case "naive" -> new JvNaiveKernels();
            case "vector" -> new JvVectorKernels(pool);
            default -> throw new IllegalArgumentException("unknown kernels: " + kernels);
        };
        packed = k.packLinear(w, out, in);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        Pools.close(pool);
    }

    @Benchmark
    public void linear(Blackhole bh) {
        k.linear(x, 0, rows, packed, bias, y, 0);
        bh.consume(y);
    }
}
