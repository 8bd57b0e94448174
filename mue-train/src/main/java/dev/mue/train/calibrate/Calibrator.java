package dev.mue.train.calibrate;

import dev.mue.api.EntailmentResult;
import dev.mue.api.ExitTrace;
import dev.mue.api.GenerationResult;
import dev.mue.api.model.Model;
import dev.mue.api.policy.Certificate;
import dev.mue.api.policy.Task;
import dev.mue.api.policy.TaskPolicy;
import dev.mue.train.data.GridTasks;
import dev.mue.train.eval.EvalRow;
import dev.mue.train.eval.Evaluator;
import dev.mue.train.eval.FullModelLoss;
import dev.mue.train.eval.OperatingPoint;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Calibrates an exit policy for one task of a model on the Fashion-MNIST grid tasks, with the
 * guarantee of {@link LearnThenTest}: with probability at least {@code 1 - epsilon} over the
 * calibration data, the certified policy's risk against the same model at full depth is at most
 * {@code delta}.
 *
 * <p>Per-example losses, bounded in [0, 1], are {@link FullModelLoss}'s: for entailment 1 when the
 * answer differs from the full-depth model's (binary, so the exact binomial p-value applies); for
 * captioning 1 - ROUGE-L F1 against the full-depth model's caption (Hoeffding-Bentkus). The examples are split in two with
 * the seed: on the first part every candidate runs and the path is chosen; on the second part only
 * the candidates that testing reaches run. The saving at the certified point is measured on the
 * second part by the {@link Evaluator}'s round-robin timing against the full model.
 */
public final class Calibrator {
    /** The family-wise error control, as the certificate names it. */
    public static final String FWER = "fixed-sequence testing along a path ordered by risk on a disjoint path split "
            + "(Learn-then-Test); the last accepted candidate is returned";

    private final Model model;
    private final String backend;
    private final int repeats;
    private final Evaluator evaluator;

    /**
     * A calibrator of {@code model} on {@code backend} (null: automatic), running batches of
     * {@code batch}; the certified point is timed {@code repeats} times against the full model.
     */
    public Calibrator(Model model, String backend, int threads, int batch, int repeats) {
        this.model = model;
        this.backend = backend;
        this.repeats = repeats;
        this.evaluator = new Evaluator(model, backend, threads, batch, repeats);
    }

    /**
     * Runs the calibration.
     *
     * @param tasks    the task builder over the data split {@code request.split()} names
     * @param progress receives a line at each stage (the CLI prints them on stderr)
     */
    public Calibration calibrate(GridTasks tasks, CalibrationRequest request, Consumer<String> progress) {
        Task task = request.task();
        List<CandidateGrid.Point> candidates = request.grid().points();
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("the candidate grid holds only the full model");
        }
        int n = request.examples();
        List<Integer> order = new ArrayList<>(IntStream.range(0, n).boxed().toList());
        Collections.shuffle(order, new Random(request.seed()));
        List<Integer> pathIdx = order.subList(0, request.pathExamples()).stream().sorted().toList();
        List<Integer> testIdx = order.subList(request.pathExamples(), n).stream().sorted().toList();
        Runner runner = task == Task.ENTAIL
                ? new VeRunner(tasks, tasks.entailments(request.seed(), n))
                : new CaptionRunner(tasks, tasks.captions(request.seed(), n), request);
        String dataSha = runner.hash(request);
        String modelSha = Hashes.model(model);

        progress.accept(String.format("calibrate: %d candidates on %d path examples", candidates.size(), pathIdx.size()));
        List<OperatingPoint> points = new ArrayList<>();
        points.add(OperatingPoint.full());
        for (CandidateGrid.Point p : candidates) {
            points.add(new OperatingPoint(label(p), p.policy(task), null));
        }
        List<Outputs> onPath = runner.run(pathIdx, points);
        double[] pathRisk = new double[candidates.size()];
        double[] saving = new double[candidates.size()];
        for (int c = 0; c < candidates.size(); c++) {
            pathRisk[c] = LearnThenTest.mean(runner.losses(onPath.get(0), onPath.get(c + 1)));
            saving[c] = onPath.get(c + 1).meanFlopReduction();
        }
        List<Integer> path = LearnThenTest.path(pathRisk, saving);
        progress.accept(String.format("calibrate: path of %d candidates; testing on %d examples", path.size(),
                testIdx.size()));
        Outputs fullOnTest = runner.run(testIdx, List.of(OperatingPoint.full())).get(0);
        Map<Integer, double[]> testLosses = new HashMap<>();
        LearnThenTest.Outcome outcome = LearnThenTest.fixedSequence(path, pathRisk, c -> testLosses.computeIfAbsent(c,
                k -> runner.losses(fullOnTest, runner.run(testIdx, List.of(points.get(k + 1))).get(0))),
                request.delta(), request.epsilon(), runner.method());
        double smallest = outcome.tested().isEmpty() ? Double.NaN
                : runner.method().smallestCertifiableDelta(testLosses.get(outcome.tested().get(0).candidate()),
                        request.epsilon());
        if (!outcome.certified()) {
            return new Calibration(request, candidates, outcome, runner.loss(), runner.method(), dataSha, modelSha, null,
                    smallest);
        }
        CandidateGrid.Point chosen = candidates.get(outcome.chosen());
        progress.accept("calibrate: timing " + label(chosen) + " against the full model on the test examples");
        List<EvalRow> rows = runner.timed(testIdx, List.of(OperatingPoint.full(), points.get(outcome.chosen() + 1)));
        EvalRow row = rows.get(1);
        Certificate.Measured measured = new Certificate.Measured(row.layerReduction(), row.flopReduction(),
                row.measuredReduction(), rows.get(0).seconds(), row.seconds(), backend == null ? "auto" : backend, repeats);
        List<Certificate.PathStep> steps = new ArrayList<>();
        for (int c : path) {
            LearnThenTest.Step s = outcome.tested().stream().filter(t -> t.candidate() == c).findFirst().orElse(null);
            CandidateGrid.Point p = candidates.get(c);
            steps.add(new Certificate.PathStep(p.image(), p.text(), p.decoder(), pathRisk[c],
                    s == null ? null : s.testRisk(), s == null ? null : s.pValue(), s != null && s.accepted()));
        }
        LearnThenTest.Step at = outcome.chosenStep();
        Certificate cert = new Certificate(task.key(), runner.loss(), request.delta(), request.epsilon(), testIdx.size(),
                at.testRisk(), at.pValue(), runner.method().description(), FWER,
                new Certificate.Data(request.split(), request.seed(), n, pathIdx.size(), testIdx.size(), dataSha),
                modelSha, request.grid().record(task), steps, measured);
        return new Calibration(request, candidates, outcome, runner.loss(), runner.method(), dataSha, modelSha,
                new TaskPolicy(chosen.policy(task), cert), smallest);
    }

    /** A candidate's label in progress lines. */
    static String label(CandidateGrid.Point p) {
        return "img>" + p.image() + ", txt>" + p.text() + ", dec " + p.decoder();
    }

    /** One operating point's per-example outputs: what the loss compares, and the traces. */
    private record Outputs(List<String> answers, List<ExitTrace> traces) {
        double meanFlopReduction() {
            return traces.stream().mapToDouble(ExitTrace::flopReduction).average().orElse(0);
        }
    }

    /** The task-specific part: running examples, the loss, the p-value, the data hash. */
    private interface Runner {
        List<Outputs> run(List<Integer> idx, List<OperatingPoint> points);

        List<EvalRow> timed(List<Integer> idx, List<OperatingPoint> points);

        double[] losses(Outputs full, Outputs candidate);

        PValueMethod method();

        String loss();

        String hash(CalibrationRequest r);
    }

    private static Hashes.Sha header(CalibrationRequest r) {
        return new Hashes.Sha().text("mue-calibration-data v1").text(r.task().key()).text(r.split()).number(r.seed())
                .number(r.examples()).number(r.pathExamples());
    }

    private static void image(Hashes.Sha h, BufferedImage im) {
        h.ints(im.getRGB(0, 0, im.getWidth(), im.getHeight(), null, 0, im.getWidth()));
    }

    private final class VeRunner implements Runner {
        private final GridTasks tasks;
        private final List<GridTasks.EntailmentExample> examples;

        VeRunner(GridTasks tasks, List<GridTasks.EntailmentExample> examples) {
            this.tasks = tasks;
            this.examples = examples;
        }

        private List<GridTasks.EntailmentExample> pick(List<Integer> idx) {
            return idx.stream().map(examples::get).toList();
        }

        @Override
        public List<Outputs> run(List<Integer> idx, List<OperatingPoint> points) {
            List<Outputs> out = new ArrayList<>();
            for (List<EntailmentResult> rs : evaluator.entailmentResults(tasks, pick(idx), points)) {
                out.add(new Outputs(rs.stream().map(EntailmentResult::answer).toList(),
                        rs.stream().map(EntailmentResult::trace).toList()));
            }
            return out;
        }

        @Override
        public List<EvalRow> timed(List<Integer> idx, List<OperatingPoint> points) {
            return evaluator.entailment(tasks, pick(idx), points);
        }

        @Override
        public double[] losses(Outputs full, Outputs c) {
            double[] l = new double[full.answers().size()];
            for (int i = 0; i < l.length; i++) {
                l[i] = FullModelLoss.ve(full.answers().get(i), c.answers().get(i));
            }
            return l;
        }

        @Override
        public PValueMethod method() {
            return PValueMethod.EXACT_BINOMIAL;
        }

        @Override
        public String loss() {
            return FullModelLoss.VE;
        }

        @Override
        public String hash(CalibrationRequest r) {
            Hashes.Sha h = header(r);
            for (int i = 0; i < examples.size(); i++) {
                GridTasks.EntailmentExample e = examples.get(i);
                h.number(i).ints(e.grid().items()).text(e.hypothesis()).text(e.answer());
                image(h, tasks.render(e.grid()));
            }
            return h.hex();
        }
    }

    private final class CaptionRunner implements Runner {
        private final GridTasks tasks;
        private final List<GridTasks.CaptionExample> examples;
        private final CalibrationRequest request;

        CaptionRunner(GridTasks tasks, List<GridTasks.CaptionExample> examples, CalibrationRequest request) {
            this.tasks = tasks;
            this.examples = examples;
            this.request = request;
        }

        private List<GridTasks.CaptionExample> pick(List<Integer> idx) {
            return idx.stream().map(examples::get).toList();
        }

        @Override
        public List<Outputs> run(List<Integer> idx, List<OperatingPoint> points) {
            List<Outputs> out = new ArrayList<>();
            for (List<GenerationResult> rs : evaluator.captionResults(tasks, pick(idx), points, request.decoding())) {
                out.add(new Outputs(rs.stream().map(GenerationResult::text).toList(),
                        rs.stream().map(GenerationResult::trace).toList()));
            }
            return out;
        }

        @Override
        public List<EvalRow> timed(List<Integer> idx, List<OperatingPoint> points) {
            return evaluator.captioning(tasks, pick(idx), points, request.decoding());
        }

        @Override
        public double[] losses(Outputs full, Outputs c) {
            double[] l = new double[full.answers().size()];
            for (int i = 0; i < l.length; i++) {
                l[i] = FullModelLoss.caption(full.answers().get(i), c.answers().get(i));
            }
            return l;
        }

        @Override
        public PValueMethod method() {
            return PValueMethod.HOEFFDING_BENTKUS;
        }

        @Override
        public String loss() {
            return FullModelLoss.CAPTION;
        }

        @Override
        public String hash(CalibrationRequest r) {
            Hashes.Sha h = header(r).number(r.decoding().beamSize()).number(r.decoding().maxLength());
            for (int i = 0; i < examples.size(); i++) {
                GridTasks.CaptionExample e = examples.get(i);
                h.number(i).ints(e.grid().items()).text(e.caption());
                image(h, tasks.render(e.grid()));
            }
            return h.hex();
        }
    }
}
