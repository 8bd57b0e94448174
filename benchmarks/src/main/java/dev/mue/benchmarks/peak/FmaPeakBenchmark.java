package dev.mue.benchmarks.peak;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The float32 FMA peak of this machine, registers only: {@value #CHAINS} independent accumulator
 * vectors of the preferred species (8 lanes with AVX2, 16 with AVX-512), each updated by a
 * {@code fma} per step, so that the FMA units' latency is hidden and nothing touches memory.
 *
 * <p>One operation is one lane's FMA, i.e. 2 FLOPs: JMH's throughput in ops/ns times 2 is the
 * GFLOP/s figure, for one thread ({@code peak1}) and for every hardware thread ({@code peakAll},
 * each running its own chains). {@code benchmarks/table.sh} prints every other result as a
 * fraction of {@code peakAll}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class FmaPeakBenchmark {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Independent accumulators: more than latency (4 cycles) times FMA ports (2). */
    static final int CHAINS = 12;
    /** Steps per invocation. */
    static final int STEPS = 4096;
    /** Lane FMAs per invocation, for JMH's operation count. */
    private static final int OPS_PER_CALL = CHAINS * STEPS * 8;

    private final FloatVector a = FloatVector.broadcast(S, 0.999999f);
    private final FloatVector b = FloatVector.broadcast(S, 1e-7f);

    /** Lanes of the species in use, e.g. 8 with AVX2. */
    public static int lanes() {
        return S.length();
    }

    private float run() {
        FloatVector x0 = FloatVector.broadcast(S, 1f);
        FloatVector x1 = FloatVector.broadcast(S, 2f);
        FloatVector x2 = FloatVector.broadcast(S, 3f);
        FloatVector x3 = FloatVector.broadcast(S, 4f);
        FloatVector x4 = FloatVector.broadcast(S, 5f);
        FloatVector x5 = FloatVector.broadcast(S, 6f);
        FloatVector x6 = FloatVector.broadcast(S, 7f);
        FloatVector x7 = FloatVector.broadcast(S, 8f);
        FloatVector x8 = FloatVector.broadcast(S, 9f);
        FloatVector x9 = FloatVector.broadcast(S, 10f);
        FloatVector x10 = FloatVector.broadcast(S, 11f);
        FloatVector x11 = FloatVector.broadcast(S, 12f);
        for (int i = 0; i < STEPS; i++) {
            x0 = x0.fma(a, b);
            x1 = x1.fma(a, b);
            x2 = x2.fma(a, b);
            x3 = x3.fma(a, b);
            x4 = x4.fma(a, b);
            x5 = x5.fma(a, b);
            x6 = x6.fma(a, b);
            x7 = x7.fma(a, b);
            x8 = x8.fma(a, b);
            x9 = x9.fma(a, b);
            x10 = x10.fma(a, b);
            x11 = x11.fma(a, b);
        }
        return x0.add(x1).add(x2).add(x3).add(x4).add(x5).add(x6).add(x7).add(x8).add(x9).add(x10).add(x11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /**
     * Lane FMAs per ns on one thread (x2 = GFLOP/s). The operation count assumes 8 lanes; the
     * report rescales by {@link #lanes()}, which it prints.
     */
    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(OPS_PER_CALL)
    public float peak1() {
        return run();
    }

    /** Lane FMAs per ns on every hardware thread together (JMH sums the threads' throughput). */
    @Benchmark
    @Threads(Threads.MAX)
    @OperationsPerInvocation(OPS_PER_CALL)
    public float peakAll() {
        return run();
    }
}
