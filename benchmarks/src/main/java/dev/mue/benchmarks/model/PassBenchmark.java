package dev.mue.benchmarks.model;

import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.api.EntailmentResult;
import dev.mue.api.ExitTrace;
import dev.mue.api.GenerationResult;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.text.Vocabulary;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
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

/**
 * Whole passes at the sizes users serve, through the public API ({@link MueSession}): a
 * visual-entailment scoring pass ({@code ve}: backbone, encoder, one decoder pass over the three
 * candidates) or a caption ({@code caption}: beam 5, 16 tokens), for OFA's tiny, medium and base
 * architectures with OFA's 59,457-row tied LM head, at 480 or 384 px, batch 1 or 8, on every
 * backend.
 *
 * <p>Random weights never exit by similarity in a known way, so the exit policy is forced:
 * {@code full} runs every layer; {@code half} makes every stream (image, text, each decoder
 * step) exit after half its layers (thresholds -1, gates below that layer disabled), a known skip
 * whose expected saving {@code benchmarks/table.sh} computes from the plan's node costs and
 * compares with the measured one. Session opening (planning, weight upload) is in the trial
 * setup; only the pass is timed.
 *
 * <p>Every pass is timed on its own ({@link Mode#SampleTime}) and the report takes the median:
 * on a shared machine another process's burst only ever slows a pass down, and a saving of 12%
 * (ofa-tiny, where the backbone dominates) is lost in the mean of two one-second iterations.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss4m", "-Xmx12g",
        "--enable-native-access=ALL-UNNAMED"})
public class PassBenchmark {
    /** Backend id. */
    @Param({"java", "torch", "tf"})
    public String backend;

    /** OFA architecture preset. */
    @Param({"ofa-tiny", "ofa-medium", "ofa-base"})
    public String model;

    /** Input image side. */
    @Param({"480", "384"})
    public int size;

    /** Images per call. */
    @Param({"1", "8"})
    public int batch;

    /** {@code full} or {@code half} (every stream exits after half its layers). */
    @Param({"full", "half"})
    public String policy;

    /** {@code ve} or {@code caption}. */
    @Param({"ve", "caption"})
    public String task;

    private MueSession session;
    private List<BufferedImage> images;
    private List<String> hypotheses;

    /** The config of a benchmark row: the preset at {@code size} px, OFA's vocabulary size. */
    public static ModelConfig config(String preset, int size) {
        return ModelConfig.preset(preset).withImageSize(size);
    }

    /** The policy of a benchmark row for a model of {@code c}. */
    public static ExitPolicy policy(String name, ModelConfig c) {
        return switch (name) {
            case "full" -> ExitPolicy.full();
            case "half" -> ExitPolicy.builder().encoderThreshold(-1).decoderThreshold(-1)
                    .minExitLayer(Math.max(1, Math.min(c.encoderLayers(), c.decoderLayers()) / 2)).build();
            default -> throw new IllegalArgumentException("unknown policy " + name);
        };
    }

    @Setup(Level.Trial)
    public void setUp() {
        ModelConfig c = config(model, size);
        Vocabulary vocab = Vocabulary.fromCorpus(List.of(" does the image describe \" a shoe and a bag \"?", " yes",
                " no", " maybe", " what does the image describe?", " a shoe and a bag on a table"), 100);
        Model m = new Model(c, RandomWeights.generate(c, 42), vocab, model);
        session = Mue.session().model(m).backend(backend).policy(policy(policy, c))
                .backendOptions(BackendOptions.defaults().withThreads(Runtime.getRuntime().availableProcessors()))
                .open();
        images = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            images.add(image(size, 100 + i));
        }
        hypotheses = Collections.nCopies(batch, "a shoe and a bag");
        recordCosts();
    }

    /**
     * Appends this row's FLOPs to {@code benchmarks/target/pass-costs.tsv} (or the file in the
     * environment variable {@code MUE_BENCH_COSTS}) for the report, from the exit traces of one
     * untimed pass, i.e. from the plan's node cost formulas at the extent each example really had
     * ({@code dev.mue.runtime.Traces}): the whole pass without exits (every layer, backbone,
     * embeddings, head) and the whole pass as this row's policy ran it (layers and gates run, keys
     * and values propagated), averaged over the batch. A caption's trace is its chosen hypothesis.
     */
    private void recordCosts() {
        List<ExitTrace> traces = "ve".equals(task)
                ? session.entailImages(images, hypotheses, null).stream().map(EntailmentResult::trace).toList()
                : session.captionImages(images).stream().map(GenerationResult::trace).toList();
        long all = Math.round(traces.stream().mapToDouble(t -> t.flopsFull() + t.flopsFixed()).average().orElse(0));
        long run = Math.round(traces.stream().mapToDouble(t -> t.flopsRun() + t.flopsFixed()).average().orElse(0));
        String named = System.getenv("MUE_BENCH_COSTS");
        java.nio.file.Path file = java.nio.file.Path.of(named != null && !named.isBlank() ? named
                : "benchmarks/target/pass-costs.tsv");
        String line = String.join("\t", backend, model, Integer.toString(size), Integer.toString(batch), policy, task,
                Long.toString(all), Long.toString(run)) + "\n";
        try {
            if (file.getParent() != null) {
                java.nio.file.Files.createDirectories(file.getParent());
            }
            java.nio.file.Files.writeString(file, line, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot record plan costs in " + file, e);
        }
    }

    private static BufferedImage image(int side, long seed) {
        BufferedImage im = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        SplittableRandom r = new SplittableRandom(seed);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                im.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        return im;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        session.close();
    }

    /** One pass of the task over the batch. */
    @Benchmark
    public Object pass() {
        return "ve".equals(task) ? session.entailImages(images, hypotheses, null) : session.captionImages(images);
    }
}
