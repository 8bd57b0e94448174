package dev.mue.cli;

import dev.mue.train.data.FashionMnist;
import dev.mue.train.trainer.Progress;
import dev.mue.train.trainer.TrainingRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mue train --out DIR}: trains the default model's recipe (the {@code mue-grid} architecture
 * on the Fashion-MNIST grid captioning and entailment tasks) with MuE's layer-wise task loss on
 * the PyTorch engine, with a progress bar on standard error, resumable checkpoints and the exported
 * bundle in {@code DIR/model}.
 */
@Command(name = "train", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = "Train the default model's recipe with the layer-wise task loss (PyTorch engine, CPU).")
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Run directory: checkpoint/ during the run, model/ (the bundle) at the end.")
    Path out;

    @Option(names = "--steps", defaultValue = "7000", paramLabel = "N", description = "Optimisation steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N", description = "Examples per step. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--lr", defaultValue = "1e-3", paramLabel = "RATE",
            description = "Peak learning rate (6%% warm-up, then linear decay). Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--seed", defaultValue = "20261128", paramLabel = "N",
            description = "Seeds the initial weights, the examples and their order. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N",
            description = "libtorch threads; 1 is bit-reproducible, more may differ in the last digits. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--checkpoint-every", defaultValue = "500", paramLabel = "N",
            description = "Steps between checkpoints. Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Option(names = "--validate-every", defaultValue = "500", paramLabel = "N",
            description = "Steps between validation losses. Default: ${DEFAULT-VALUE}.")
    int validateEvery;

    @Option(names = "--validation-examples", defaultValue = "256", paramLabel = "N",
            description = "Validation-split examples of the validation loss. Default: ${DEFAULT-VALUE}.")
    int validationExamples;

    @Option(names = "--resume", description = "Continue from DIR/checkpoint if there is one.")
    boolean resume;

    @Option(names = "--final-layer-only",
            description = "Train on the last decoder layer's loss alone, not MuE's layer-wise loss: the baseline for mue eval --baseline-model.")
    boolean finalLayerOnly;

    @Option(names = "--encoder-exit-rate", defaultValue = "0.5", paramLabel = "R",
            description = "Exit-aware training: for this share of the examples (0 to 1) the image and text streams each "
                    + "stop at a layer drawn uniformly, so the decoder learns to read shallow encoder states as MuE's "
                    + "encoder exits give them. Default: ${DEFAULT-VALUE}, the shipped model's recipe; 0 is the paper's "
                    + "(the encoder at full depth).")
    double encoderExitRate;

    @Override
    public Integer call() throws IOException {
        TrainingRun.Settings s;
        try {
            s = new TrainingRun.Settings(steps, batchSize, learningRate, seed, threads, checkpointEvery, validateEvery,
                    validationExamples, finalLayerOnly, encoderExitRate);
        } catch (IllegalArgumentException e) {
            throw MueCli.usage(spec, e.getMessage());
        }
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter outWriter = spec.commandLine().getOut();
        FashionMnist data = FashionMnist.load();
        ProgressBar bar = new ProgressBar(err, steps);
        long t0 = System.nanoTime();
        TrainingRun.run(data, s, out, resume, line -> {
            bar.clear();
            outWriter.println(line);
            outWriter.flush();
        }, bar::update);
        bar.clear();
        outWriter.printf(Locale.ROOT, "trained %d steps in %.1f min; bundle in %s%n", steps,
                (System.nanoTime() - t0) / 60e9, out.resolve(TrainingRun.MODEL));
        outWriter.flush();
        return 0;
    }

    /** A one-line bar redrawn with carriage returns: step, loss (running mean), throughput, ETA. */
    static final class ProgressBar {
        private final CountBar line;
        private final int total;
        private double meanLoss = Double.NaN;
        private int firstStep = -1;

        ProgressBar(PrintWriter err, int total) {
            this.line = new CountBar(err, "steps");
            this.total = total;
        }

        void update(Progress p) {
            if (firstStep < 0) {
                firstStep = p.step() - 1;
            }
            meanLoss = Double.isNaN(meanLoss) ? p.loss() : 0.98 * meanLoss + 0.02 * p.loss();
            if (!line.due(p.step(), total)) {
                return;
            }
            double perStep = line.elapsedSeconds() / Math.max(1, p.step() - firstStep);
            line.draw(p.step(), total, String.format(Locale.ROOT, "loss %.3f lr %.1e %.0f ex/s eta %s", meanLoss,
                    p.learningRate(), p.examplesPerSecond(), CountBar.duration(perStep * (total - p.step()))));
        }

        void clear() {
            line.clear();
        }
    }
}
