package dev.mue.benchmarks.open;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.text.Vocabulary;
import dev.mue.planner.Planner;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One backend's cost of opening a session on an OFA preset, in its own JVM so that the peak
 * resident set is that backend's: the plan's compilation alone (best of three, after one warm-up:
 * weight validation, resolution, bias folding), the session open (compile and prepare), the first
 * visual-entailment pass (JIT or graph warm-up included) and a second one, and the JVM's peak
 * resident set ({@code VmHWM}) at the end. Run by {@code benchmarks/open.sh}; not a JMH benchmark,
 * since each figure is a one-off cost.
 *
 * <p>Usage: {@code SessionOpen PRESET SIZE BACKEND}; prints one tab-separated line.
 */
public final class SessionOpen {
    private SessionOpen() {
    }

    /** Measures and prints {@code preset size backend compile_ms open_ms first_ms second_ms peak_rss_mb}. */
    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: SessionOpen PRESET SIZE BACKEND");
            System.exit(2);
        }
        ModelConfig c = ModelConfig.preset(args[0]).withImageSize(Integer.parseInt(args[1]));
        Vocabulary vocab = Vocabulary.fromCorpus(List.of(" does the image describe \" a shoe and a bag \"?", " yes",
                " no", " maybe", " what does the image describe?"), 100);
        Model m = new Model(c, RandomWeights.generate(c, 42), vocab, args[0]);
        PlanShapes shapes = PlanShapes.defaults(c);
        Planner.compile(m, ExitPolicy.full(), shapes);
        double compile = Double.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            Plan p = Planner.compile(m, ExitPolicy.full(), shapes);
            compile = Math.min(compile, (System.nanoTime() - t0) / 1e6);
            if (p.nodes().isEmpty()) {
                throw new IllegalStateException("empty plan");
            }
        }
        long t0 = System.nanoTime();
        BufferedImage image = new BufferedImage(c.imageSize(), c.imageSize(), BufferedImage.TYPE_INT_RGB);
        try (MueSession s = Mue.session().model(m).backend(args[2]).policy(ExitPolicy.full())
                .backendOptions(BackendOptions.defaults().withThreads(Runtime.getRuntime().availableProcessors()))
                .open()) {
            double open = (System.nanoTime() - t0) / 1e6;
            t0 = System.nanoTime();
            s.entailImages(List.of(image), List.of("a shoe and a bag"), null);
            double first = (System.nanoTime() - t0) / 1e6;
            t0 = System.nanoTime();
            s.entailImages(List.of(image), List.of("a shoe and a bag"), null);
            double second = (System.nanoTime() - t0) / 1e6;
            System.out.println(String.format(Locale.ROOT, "%s\t%d\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f", args[0], c.imageSize(),
                    args[2], compile, open, first, second, peakRssMb()));
        }
    }

    /** The process's peak resident set in MB, from {@code /proc/self/status}; NaN where there is none. */
    static double peakRssMb() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return Double.NaN;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }
}
