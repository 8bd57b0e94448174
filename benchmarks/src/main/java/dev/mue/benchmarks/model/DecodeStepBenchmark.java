package dev.mue.benchmarks.model;

import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decoding steps: 16 incremental steps for 5 rows (a beam of 5) against a fixed encoder output,
 * reported per step ({@link OperationsPerInvocation}). Each invocation starts from an empty cache,
 * so the per-step figure averages positions 0 to 15 as a caption of 16 tokens does.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss4m",
        "--enable-native-access=ALL-UNNAMED"})
public class DecodeStepBenchmark {
    private static final int STEPS = 16;

    /** Backend id. */
    @Param({"java", "torch", "tf"})
    public String backend;

    /** Model shape. */
    @Param({"mue-demo", "ofa-tiny-256"})
    public String model;

    /** Exit policy: {@code full} or {@code mue}. */
    @Param({"full", "mue"})
    public String policy;

    /** Backend threads. */
    @Param({"1", "2"})
    public int threads;

    private ModelState state;
    private EncodedBatch encoded;

    @Setup(Level.Trial)
    public void setUp() {
        state = new ModelState(backend, model, policy, threads, 1);
        encoded = state.executable.encode(state.batch);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        encoded.close();
        state.close();
    }

    @Benchmark
    @OperationsPerInvocation(STEPS)
    public void step(Blackhole bh) {
        try (DecoderStepper s = state.executable.decoder(encoded, new int[] {0, 0, 0, 0, 0}, STEPS)) {
            int[] tokens = {0, 0, 0, 0, 0};
            for (int t = 0; t < STEPS; t++) {
                bh.consume(s.step(tokens).exitLayer());
                for (int r = 0; r < tokens.length; r++) {
                    tokens[r] = 4 + (t * 5 + r) % 40;
                }
            }
        }
    }
}
