package dev.mue.cli;

import dev.mue.api.model.Model;
import dev.mue.api.policy.Certificate;
import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.policy.Task;
import dev.mue.train.calibrate.CalibrationRequest;
import dev.mue.train.calibrate.Calibration;
import dev.mue.train.calibrate.Calibrator;
import dev.mue.train.calibrate.CandidateGrid;
import dev.mue.train.calibrate.LearnThenTest;
import dev.mue.train.data.FashionMnist;
import dev.mue.train.data.GridTasks;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mue calibrate --task ve|caption --risk DELTA --confidence 1-EPSILON --out policy.json}:
 * the most aggressive exit policy whose risk against the full-depth model is certified at most
 * delta with probability at least 1 - epsilon (Learn-then-Test), written with its certificate.
 *
 * <p>Exit codes: 0 with the policy written; 3 when nothing on the path is certified at this risk
 * (the file is not written, and the smallest risk that could have been certified is printed);
 * 1 on errors, including an output file that cannot be written or an existing one that is not a
 * valid policy file (it is never overwritten then).
 */
@Command(name = "calibrate", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = {"Calibrate exit thresholds with a guarantee (Learn-then-Test): the policy's risk against the "
                + "full-depth model is at most --risk with probability --confidence.",
                "Exit code 3: nothing certified at this risk (nothing written)."})
final class CalibrateCommand implements Callable<Integer> {
    /** Exit code when the calibration ran but certified nothing. */
    static final int NOTHING_CERTIFIED = 3;

    @Spec
    CommandSpec spec;

    @Option(names = "--task", required = true, paramLabel = "TASK", description = "ve or caption.")
    String task;

    @Option(names = "--risk", required = true, paramLabel = "DELTA",
            description = "Risk bound delta: the mean loss against the full model (VE: share of changed answers; caption: 1 - ROUGE-L F1).")
    double risk;

    @Option(names = "--confidence", required = true, paramLabel = "1-EPSILON", description = "Confidence of the guarantee, e.g. 0.95.")
    double confidence;

    @Option(names = "--examples", paramLabel = "N", description = "Calibration examples (default: 1000 for ve, 500 for caption).")
    Integer examples;

    @Option(names = "--split", defaultValue = "validation", paramLabel = "SPLIT",
            description = "validation or test. Default: ${DEFAULT-VALUE} (keep the test split for evaluation).")
    String split;

    @Option(names = "--seed", defaultValue = "20261128", paramLabel = "N",
            description = "Draws the examples and splits them into path and test parts. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--path-fraction", defaultValue = "0.3", paramLabel = "F",
            description = "Share of the examples that chooses the path; the rest test it. Default: ${DEFAULT-VALUE}.")
    double pathFraction;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "Examples per batch. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "N",
            description = "Timed passes of the certified point and the full model; the fastest counts. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--out", required = true, paramLabel = "FILE",
            description = "The policy file to write; an existing policy file keeps its other task's entry.")
    Path out;

    @Option(names = "--model", paramLabel = "DIR", description = "Model bundle directory; default: the bundled model.")
    Path model;

    @Option(names = "--backend", paramLabel = "ID", defaultValue = "java", description = "Backend id. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Mixin
    GridOptions gridOptions;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Backend threads; 0: one per core. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Override
    public Integer call() throws IOException {
        Task t = Task.parse(task);
        if (batchSize < 1 || repeats < 1 || threads < 0 || threads > dev.mue.api.spi.BackendOptions.MAX_THREADS) {
            throw MueCli.usage(spec, "--batch-size and --repeats must be positive, --threads 0 to "
                    + dev.mue.api.spi.BackendOptions.MAX_THREADS);
        }
        int n = examples != null ? examples : t == Task.ENTAIL ? 1000 : 500;
        // 1 - 0.9 in binary floating point is 0.09999999999999998; the user meant 0.1
        double epsilon = java.math.BigDecimal.ONE.subtract(java.math.BigDecimal.valueOf(confidence)).doubleValue();
        CalibrationRequest request;
        try {
            request = new CalibrationRequest(t, risk, epsilon, split, seed, n, pathFraction, gridOptions.grid(spec, t),
                    dev.mue.session.decode.DecodingOptions.captioning());
        } catch (IllegalArgumentException e) {
            throw MueCli.usage(spec, e.getMessage());
        }
        // read an existing output first: a file that is not a policy file is never overwritten
        ModelPolicies existing = Files.exists(out) ? PolicyFile.read(out, out.toString()) : null;
        Path dir = out.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new IllegalArgumentException("cannot write --out " + out + ": " + dir + " is not a writable directory");
        }
        Model m = SessionOptions.loadModel(model);
        GridTasks tasks = new GridTasks(EvalCommand.split(FashionMnist.load(), split));
        PrintWriter w = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Calibration c = new Calibrator(m, backend, threads, batchSize, repeats).calibrate(tasks, request, line -> {
            err.println(line);
            err.flush();
        });
        printPath(w, c);
        if (!c.certified()) {
            LearnThenTest.Step first = c.outcome().tested().isEmpty() ? null : c.outcome().tested().get(0);
            w.printf(Locale.ROOT, "nothing certified at risk %s with confidence %s%s; %s not written%n", num(risk),
                    num(confidence), first == null ? ""
                            : String.format(Locale.ROOT, ": the first candidate on the path (%s) has test risk %.4f, "
                                    + "p-value %.4g > epsilon %s; the smallest risk it could be certified at is %s",
                                    label(c.candidates().get(first.candidate())), first.testRisk(), first.pValue(),
                                    num(epsilon), num(c.smallestDelta())),
                    out);
            w.flush();
            return NOTHING_CERTIFIED;
        }
        ModelPolicies base = existing != null ? existing : new ModelPolicies(null, null, out.toString());
        PolicyFile.write(base.with(t, c.policy()), out);
        printCertificate(w, c.certificate(), c);
        w.printf("written: %s (%s entry%s)%n", out, t.key(), existing != null ? ", other entries kept" : "");
        w.flush();
        return 0;
    }

    private static void printPath(PrintWriter w, Calibration c) {
        CalibrationRequest r = c.request();
        w.printf(Locale.ROOT, "grid: %d candidates (image %s x text %s x decoder %s, %s); path of %d chosen on %d "
                + "examples, tested on %d%n", c.candidates().size(), r.grid().image(), r.grid().text(), r.grid().decoder(),
                CandidateGrid.scheduleName(r.task()), c.outcome().path().size(), r.pathExamples(), r.testExamples());
        w.println("| step | candidate | path risk | test risk | p-value | |");
        w.println("|---|---|---|---|---|---|");
        int i = 0;
        for (int cand : c.outcome().path()) {
            LearnThenTest.Step s = i < c.outcome().tested().size() ? c.outcome().tested().get(i) : null;
            w.printf(Locale.ROOT, "| %d | %s | %.4f | %s | %s | %s |%n", i + 1, label(c.candidates().get(cand)),
                    c.outcome().pathRisk().get(i), s == null ? "-" : String.format(Locale.ROOT, "%.4f", s.testRisk()),
                    s == null ? "-" : String.format(Locale.ROOT, "%.3g", s.pValue()),
                    s == null ? "not tested" : s.accepted() ? "certified" : "stop");
            i++;
        }
    }

    private static void printCertificate(PrintWriter w, Certificate cert, Calibration c) {
        CandidateGrid.Point p = c.candidates().get(c.outcome().chosen());
        Certificate.Measured m = cert.measured();
        w.println("certificate:");
        w.printf(Locale.ROOT, "  policy: %s (task %s)%n", c.policy().policy().describe(), cert.task());
        w.printf(Locale.ROOT, "  thresholds: image %s, text %s, decoder %s (%s)%n", num(p.image()), num(p.text()),
                num(p.decoder()), cert.grid().decoderSchedule());
        w.printf(Locale.ROOT, "  guarantee: risk <= delta %s with probability >= %s (epsilon %s)%n", num(cert.delta()),
                num(confidenceOf(cert.epsilon())), num(cert.epsilon()));
        w.printf(Locale.ROOT, "  loss: %s%n", cert.loss());
        w.printf(Locale.ROOT, "  at this point: empirical risk %.4f on n = %d test examples, p-value %.4g%n",
                cert.empiricalRisk(), cert.n(), cert.pValue());
        w.printf(Locale.ROOT, "  p-value: %s%n  family-wise error: %s%n", cert.pValueMethod(), cert.fwerMethod());
        w.printf(Locale.ROOT, "  data: %s split, seed %d, %d examples (%d path, %d test), sha256 %s%n", cert.data().split(),
                cert.data().seed(), cert.data().examples(), cert.data().pathExamples(), cert.data().testExamples(),
                cert.data().sha256());
        w.printf(Locale.ROOT, "  model: sha256 %s%n", cert.modelSha256());
        w.printf(Locale.ROOT, "  measured on the test examples (%s, fastest of %d): layers -%.1f%%, FLOPs -%.1f%%, "
                + "wall clock %+.1f%% (%.2f s against %.2f s at full depth)%n", m.backend(), m.repeats(),
                100 * m.layerReduction(), 100 * m.flopReduction(), -100 * m.timeReduction(), m.policySeconds(),
                m.fullSeconds());
    }

    private static double confidenceOf(double epsilon) {
        return java.math.BigDecimal.ONE.subtract(java.math.BigDecimal.valueOf(epsilon)).doubleValue();
    }

    static String label(CandidateGrid.Point p) {
        return "img>" + num(p.image()) + ", txt>" + num(p.text()) + ", dec " + num(p.decoder());
    }

    static String num(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
}
