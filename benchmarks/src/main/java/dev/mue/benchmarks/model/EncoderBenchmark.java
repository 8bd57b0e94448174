package dev.mue.benchmarks.model;

import dev.mue.api.spi.EncodedBatch;
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
 * One encoder pass (ResNet backbone, image and text streams with their exits, final LayerNorm)
 * over a batch of 4, with every layer ({@code full}) and with MuE exits ({@code mue}). The plan
 * is compiled and prepared in the trial setup; only {@code encode} is timed.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss4m",
        "--enable-native-access=ALL-UNNAMED"})
public class EncoderBenchmark {

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

    @Setup(Level.Trial)
    public void setUp() {
        state = new ModelState(backend, model, policy, threads, 4);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        state.close();
    }

    @Benchmark
    public void encode(Blackhole bh) {
        try (EncodedBatch e = state.executable.encode(state.batch)) {
            bh.consume(e.exits(0));
        }
    }
}
