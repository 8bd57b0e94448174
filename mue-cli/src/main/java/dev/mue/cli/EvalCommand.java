package dev.mue.cli;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.policy.EncoderMode;
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
 * {@code mue eval --task ve|caption [--sweep]}: quality against expected and measured time
 * reduction on the Fashion-MNIST grid tasks, as a Markdown table (printed and written) and a PNG
 * plot, in the manner of the paper's Tables 1 and 3.
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

    @Option(names = "--split", defaultValue = "test", paramLabel = "SPLIT",
            description = "validation or test (the official Fashion-MNIST test images). Default: ${DEFAULT-VALUE}.")
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

    @Override
    public Integer call() throws IOException {
        if (!task.equals("ve") && !task.equals("caption")) {
            throw new IllegalArgumentException("--task must be ve or caption, got '" + task + "'");
        }
        if (examples < 1 || batchSize < 1 || repeats < 1) {
            throw new IllegalArgumentException("--examples, --batch-size and --repeats must be positive");
        }
        FashionMnist data = FashionMnist.load();
        FashionMnist.Split s = switch (split) {
            case "test" -> data.test();
            case "validation" -> data.validation();
            default -> throw new IllegalArgumentException("--split must be validation or test, got '" + split + "'");
        };
        GridTasks tasks = new GridTasks(s);
        Model model = session.loadModel();
        List<OperatingPoint> points = new ArrayList<>();
        if (sweep) {
            points.addAll(OperatingPoint.sweep(task));
        } else {
            points.add(OperatingPoint.full());
            points.add(new OperatingPoint("MuE (" + session.policy().describe() + ")", session.policy(), null));
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
        Evaluator ev = new Evaluator(model, session.backend, session.threads, batchSize, repeats);
        List<EvalRow> rows = task.equals("ve")
                ? ev.entailment(tasks, tasks.entailments(seed, examples), points)
                : ev.captioning(tasks, tasks.captions(seed, examples), points, session.decoding());
        String md = EvalReport.markdown(task, rows);
        Files.createDirectories(out);
        Path mdFile = out.resolve("eval-" + task + ".md");
        Path png = out.resolve("eval-" + task + ".png");
        Files.writeString(mdFile, String.format(Locale.ROOT,
                "%s on %d %s examples (seed %d), model %s, backend %s, batch %d, fastest of %d timed passes%n%n",
                task.equals("ve") ? "Visual entailment" : "Captioning", examples, split, seed, session.modelSource(),
                session.backend == null ? "automatic" : session.backend, batchSize, repeats) + md);
        EvalReport.plot(task, rows, png);
        PrintWriter w = spec.commandLine().getOut();
        w.print(md);
        w.printf("written: %s, %s%n", mdFile, png);
        w.flush();
        return 0;
    }
}
