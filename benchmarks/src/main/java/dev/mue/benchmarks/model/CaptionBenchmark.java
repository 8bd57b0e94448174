package dev.mue.benchmarks.model;

import dev.mue.session.decode.BeamSearch;
import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import java.util.List;
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
 * One caption end to end on the executable, without the session facade: the encoder pass for one
 * image, then beam search (beam 5, at most 16 tokens, OFA's captioning settings) over the
 * decoder, with the policy's decoder schedule. Preprocessing and tokenising are not timed.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss4m",
        "--enable-native-access=ALL-UNNAMED"})
public class CaptionBenchmark {

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
    private BeamSearch search;

    @Setup(Level.Trial)
    public void setUp() {
        state = new ModelState(backend, model, policy, threads, 1);
        search = new BeamSearch(DecodingOptions.captioning());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        state.close();
    }

    @Benchmark
    public void caption(Blackhole bh) {
        try (EncodedBatch e = state.executable.encode(state.batch);
                DecoderStepper s = state.executable.decoder(e, new int[] {0}, DecodingOptions.captioning().maxLength())) {
            List<BeamSearch.Hypothesis> h = search.run(s, 1);
            bh.consume(h.get(0).tokens());
        }
    }
}
