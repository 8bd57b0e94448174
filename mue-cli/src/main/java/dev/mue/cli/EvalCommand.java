package dev.mue.cli;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.api.policy.Task;
import dev.mue.train.calibrate.CandidateGrid;
import dev.mue.train.data.FashionMnist;
import dev.mue.train.data.GridTasks;
import dev.mue.train.eval.EvalReport;
import dev.mue.train.eval.EvalRow;
import dev.mue.train.eval.Evaluator;
import dev.mue.train.eval.OperatingPoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mue eval --task ve|caption [--sweep | --pareto]}: quality against expected and measured
 * time reduction on the Fashion-MNIST grid tasks, as a Markdown table (printed and written) and a
 * PNG plot, in the manner of the paper's Tables 1 and 3.
 *
 * <p>Without {@code --sweep} or {@code --pareto} it compares the full model with the task's policy
 * (flags over {@code --policy FILE} over the bundle's over the paper's) and says how often it
 * disagrees with the full model. {@code --pareto} sweeps the calibration grid (validation split
 * unless {@code --split} says otherwise) and reports the non-dominated points, with the task's
 * certified policy, when it has one, marked.
 */
@Command(name = "eval", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = "Evaluate VE accuracy or captioning CIDEr-D/BLEU-4 against time reduction on the Fashion-MNIST grid tasks.")
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--task", required = true, paramLabel = "TASK", description = "ve or caption.")
    String task;

    @Option(names = "--sweep", description = "Run the default sweep (full model, MuE operating points, joint encoder) instead of the full model and the policy the flags give.")
    boolean sweep;

    @Option(names = "--pareto", description = "Sweep the 3-D threshold grid (the calibration candidates) and print the non-dominated points (quality against measured time), the certified policy marked.")
    boolean pareto;

    @Option(names = "--split", paramLabel = "SPLIT",
            description = "validation or test (the official Fashion-MNIST test images). Default: test; validation with --pareto.")
    String split;

    @Option(names = "--examples", defaultValue = "1000", paramLabel = "N", description = "Examples per row. Default: ${DEFAULT-VALUE}.")
    int examples;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "N",
            description = "Timed passes per row; the fastest counts. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "Examples per batch. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--seed", defaultValue = "20261128", paramLabel = "N", description = "Seed of the task examples. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--baseline-model", paramLabel = "DIR",
            description = "A bundle trained without the layer-wise loss (mue train --final-layer-only): adds its rows at full depth and at the second and third operating points.")
    Path baseline;

    @Option(names = "--out", defaultValue = "eval", paramLabel = "DIR", description = "Where the .md and .png go. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Mixin
    SessionOptions session;

    @Mixin
    GridOptions gridOptions;

    @Override
    public Integer call() throws IOException {
        session.validate();
        if (!task.equals("ve") && !task.equals("caption")) {
            // the evaluation names entailment "ve"; Task.parse would accept "entail" too
            throw MueCli.usage(spec, "--task must be ve or caption, got '" + task + "'");
        }
        if (examples < 1 || batchSize < 1 || repeats < 1) {
            throw MueCli.usage(spec, "--examples, --batch-size and --repeats must be positive");
        }
        if (sweep && pareto) {
            throw MueCli.usage(spec, "--sweep and --pareto are two different sweeps; give one");
        }
        if (split == null) {
            split = pareto ? "validation" : "test";
        }
        Task t = Task.parse(task);
        CandidateGrid grid = gridOptions.grid(spec, t);
        if (!pareto && (gridOptions.image != null || gridOptions.text != null || gridOptions.decoder != null)) {
            throw MueCli.usage(spec, "--grid-image, --grid-text and --grid-decoder shape the --pareto sweep; give --pareto");
        }
        GridTasks tasks = new GridTasks(split(FashionMnist.load(), split));
        Model model = session.loadModel();
        PolicyChoice choice = session.choice(t, model, session.filePolicies());
        List<OperatingPoint> points = new ArrayList<>();
        int certified = -1;
        if (sweep) {
            points.addAll(OperatingPoint.sweep(task));
        } else if (pareto) {
            points.add(OperatingPoint.full());
            for (CandidateGrid.Point p : grid.points()) {
                points.add(new OperatingPoint(CalibrateCommand.label(p), p.policy(t), null));
            }
            if (choice.certificate() != null) {
                certified = points.size();
                points.add(new OperatingPoint("certified: " + choice.source() + " (delta " + CalibrateCommand.num(choice.certificate().delta())
                        + ", epsilon " + CalibrateCommand.num(choice.certificate().epsilon()) + ")", choice.policy(), null));
            }
        } else {
            points.add(OperatingPoint.full());
            points.add(new OperatingPoint("MuE (" + choice.policy().describe() + ")", choice.policy(), null));
        }
        if (baseline != null) {
            // the ablation model at full depth (its own quality) and at the sweep's second and third
            // points (decoder exits only; encoder and decoder exits), or at the flags' policy
            Model base = ModelBundle.load(baseline);
            points.add(new OperatingPoint("w/o layer-wise loss, full model", OperatingPoint.full().policy(), base));
            for (int i : sweep ? new int[] {2, 3} : new int[] {1}) {
                OperatingPoint p = points.get(i);
                points.add(new OperatingPoint("w/o layer-wise loss, " + p.label(), p.policy(), base));
            }
        }
        CountBar bar = new CountBar(spec.commandLine().getErr(), "examples");
        Evaluator ev = new Evaluator(model, session.backend, session.threads, batchSize, repeats)
                .onProgress(bar::update);
        List<EvalRow> rows;
        try {
            rows = task.equals("ve")
                    ? ev.entailment(tasks, tasks.entailments(seed, examples), points)
                    : ev.captioning(tasks, tasks.captions(seed, examples), points, session.decoding(model));
        } finally {
            bar.clear();
        }
        List<EvalRow> shown = rows;
        List<Integer> front = null;
        if (pareto) {
            front = EvalReport.paretoFront(rows);
            List<EvalRow> f = new ArrayList<>();
            for (int i : front) {
                f.add(rows.get(i));
            }
            if (certified >= 0 && !front.contains(certified)) {
                f.add(rows.get(certified));
            }
            shown = f;
        }
        String md = EvalReport.markdown(task, shown);
        Files.createDirectories(out);
        String name = "eval-" + task + (pareto ? "-pareto" : "");
        Path mdFile = out.resolve(name + ".md");
        Path png = out.resolve(name + ".png");
        String head = String.format(Locale.ROOT,
                "%s on %d %s examples (seed %d), model %s, backend %s, batch %d, fastest of %d timed passes%n",
                task.equals("ve") ? "Visual entailment" : "Captioning", examples, split, seed, session.modelSource(),
                session.backend == null ? "automatic" : session.backend, batchSize, repeats);
        if (pareto) {
            head += String.format(Locale.ROOT, "%nNon-dominated points (quality against measured time) of %d candidates "
                    + "(image %s x text %s x decoder %s, %s)%s.%n", rows.size() - 1 - (certified >= 0 ? 1 : 0),
                    grid.image(), grid.text(), grid.decoder(),
                    CandidateGrid.scheduleName(t), certified >= 0 ? (front.contains(certified)
                            ? "; the certified policy is on the front" : "; the certified policy, last row, is not on it")
                            : "");
        } else if (!sweep) {
            head += "Policy from: " + choice.describeSource() + "\n";
        }
        Files.writeString(mdFile, head + "\n" + md);
        if (pareto) {
            EvalReport.plotPareto(task, rows, front, certified, png);
        } else {
            EvalReport.plot(task, rows, png);
        }
        PrintWriter w = spec.commandLine().getOut();
        if (!sweep && !pareto) {
            w.println("policy from: " + choice.describeSource());
        }
        w.print(md);
        if (!sweep && !pareto) {
            EvalRow r = rows.get(1);
            w.printf(Locale.ROOT, t == Task.ENTAIL
                    ? "against the full model on %d %s examples: answers differ on %.1f%%, measured time %+.1f%%%n"
                    : "against the full model on %d %s examples: mean 1 - ROUGE-L F1 %.4f, measured time %+.1f%%%n",
                    examples, split, t == Task.ENTAIL ? 100 * r.disagreement() : r.disagreement(),
                    -100 * r.measuredReduction());
        }
        w.printf("written: %s, %s%n", mdFile, png);
        w.flush();
        return 0;
    }

    /** The split named {@code validation} or {@code test}. */
    static FashionMnist.Split split(FashionMnist data, String name) {
        return switch (name) {
            case "test" -> data.test();
            case "validation" -> data.validation();
            default -> throw new IllegalArgumentException("--split must be validation or test, got '" + name + "'");
        };
    }
}
