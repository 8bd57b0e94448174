package dev.mue.train.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mue.api.model.Model;
import dev.mue.train.data.FashionMnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A whole training run of the {@link GridTraining} recipe: seeded initial model, one pass over
 * {@code steps x batch} fresh training examples, a validation loss per decoder layer at intervals,
 * a checkpoint at intervals (resumable), and the exported F16 bundle at the end.
 *
 * <p>Layout of {@code out}: {@code checkpoint/} (the latest checkpoint, replaced as a whole) and
 * {@code model/} (the final bundle, written when the last step is done).
 */
public final class TrainingRun {
    /** Directory of the latest checkpoint under the run's output directory. */
    public static final String CHECKPOINT = "checkpoint";
    /** Directory of the exported bundle under the run's output directory. */
    public static final String MODEL = "model";
    /** Seed offset of the validation examples (drawn from the validation split). */
    static final long VALIDATION_SEED_OFFSET = 7;

    private TrainingRun() {
    }

    /**
     * Settings of a run.
     *
     * @param steps              optimisation steps
     * @param batchSize          examples per step
     * @param learningRate       peak learning rate (warm-up over 6% of the steps, then linear decay)
     * @param seed               seeds the initial weights, the examples and their order
     * @param threads            libtorch threads; 1 gives bit-reproducible runs
     * @param checkpointEvery    steps between checkpoints (0: only at the end)
     * @param validateEvery      steps between validation losses (0: only at the end)
     * @param validationExamples examples of the validation split the validation loss averages over
     * @param finalLayerOnly     train on the last decoder layer's loss alone: the ablation baseline
     *                           without MuE's layer-wise loss
     * @param encoderExitRate    the share of examples whose encoder streams stop at sampled layers
     *                           ({@link TrainerOptions#encoderExitRate()}); 0 is the paper's recipe
     */
    public record Settings(int steps, int batchSize, double learningRate, long seed, int threads, int checkpointEvery,
            int validateEvery, int validationExamples, boolean finalLayerOnly, double encoderExitRate) {

        /** The paper's recipe (encoder at full depth), with or without the layer-wise loss. */
        public Settings(int steps, int batchSize, double learningRate, long seed, int threads, int checkpointEvery,
                int validateEvery, int validationExamples, boolean finalLayerOnly) {
            this(steps, batchSize, learningRate, seed, threads, checkpointEvery, validateEvery, validationExamples,
                    finalLayerOnly, 0);
        }

        /** Checks the ranges. */
        public Settings {
            if (steps < 1 || batchSize < 1 || !(learningRate > 0) || threads < 0 || checkpointEvery < 0
                    || validateEvery < 0 || validationExamples < 1) {
                throw new IllegalArgumentException("invalid training settings: steps, batch size, learning rate and"
                        + " validation examples must be positive; threads and intervals 0 or more");
            }
            if ((long) steps * batchSize > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("steps x batch size exceeds " + Integer.MAX_VALUE + " examples");
            }
        }

        /** The optimiser settings these imply. */
        public TrainerOptions trainerOptions() {
            return TrainerOptions.of(learningRate, steps, batchSize, seed).withFinalLayerOnly(finalLayerOnly)
                    .withEncoderExitRate(encoderExitRate);
        }
    }

    /**
     * Runs (or, with {@code resume} and a checkpoint under {@code out}, continues) the training and
     * exports the bundle. Without {@code resume}, a directory that already holds a run is refused
     * rather than overwritten.
     *
     * @param log      receives progress lines (every step's {@link Progress}) and validation lines
     * @param progress receives every step (may be null)
     * @return the trained model
     */
    public static Model run(FashionMnist data, Settings s, Path out, boolean resume, Consumer<String> log,
            Consumer<Progress> progress) throws IOException {
        GridTraining recipe = new GridTraining(data.train());
        GridTraining validation = new GridTraining(data.validation());
        List<TrainExample> train = recipe.examples(s.seed(), s.steps() * s.batchSize());
        List<TrainExample> val = validation.examples(s.seed() + VALIDATION_SEED_OFFSET, s.validationExamples());
        Path ckpt = out.resolve(CHECKPOINT);
        if (!resume && (Files.exists(ckpt) || Files.exists(out.resolve(MODEL)))) {
            throw new IllegalArgumentException(out + " already holds a run (" + CHECKPOINT + "/ or " + MODEL
                    + "/); continue it with resume, or choose another output directory");
        }
        Files.createDirectories(out);
        boolean continuing = resume && Files.isRegularFile(ckpt.resolve(Trainer.STATE));
        try (Trainer t = continuing
                ? Trainer.resume(ckpt, s.trainerOptions(), GridTraining.shapes(), s.threads())
                : new Trainer(GridTraining.initialModel(s.seed()), s.trainerOptions(), GridTraining.shapes(),
                        s.threads())) {
            if (continuing) {
                log.accept("resuming from " + ckpt + " at step " + t.step());
            } else if (resume) {
                log.accept("no checkpoint under " + ckpt + "; starting at step 0");
            }
            if (t.step() > s.steps()) {
                throw new IllegalArgumentException("the checkpoint is at step " + t.step() + ", past --steps "
                        + s.steps());
            }
            if (t.step() == 0) {
                log.accept(validationLine(t, val, s.batchSize()));
            }
            while (t.step() < s.steps()) {
                Progress p = t.trainStep(train);
                if (progress != null) {
                    progress.accept(p);
                }
                boolean last = t.step() == s.steps();
                if (last || (s.validateEvery() > 0 && t.step() % s.validateEvery() == 0)) {
                    log.accept(validationLine(t, val, s.batchSize()));
                }
                if (last || (s.checkpointEvery() > 0 && t.step() % s.checkpointEvery() == 0)) {
                    writeCheckpoint(t, ckpt);
                }
            }
            Path model = out.resolve(MODEL);
            t.export(model);
            log.accept("exported " + model);
            return t.model();
        }
    }

    /** Writes the checkpoint beside the old one, then swaps, so an interrupted write loses nothing. */
    private static void writeCheckpoint(Trainer t, Path ckpt) throws IOException {
        Path next = ckpt.resolveSibling(CHECKPOINT + ".next");
        deleteTree(next);
        t.checkpoint(next);
        Path old = ckpt.resolveSibling(CHECKPOINT + ".old");
        deleteTree(old);
        if (Files.exists(ckpt)) {
            Files.move(ckpt, old);
        }
        Files.move(next, ckpt);
        deleteTree(old);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** {@code validation step N: loss L (per layer a b c ...)} averaged over the validation examples. */
    static String validationLine(Trainer t, List<TrainExample> val, int batch) {
        double[] perLayer = validationLoss(t, val, batch);
        double total = 0;
        StringBuilder layers = new StringBuilder();
        for (double v : perLayer) {
            total += v;
            layers.append(String.format(Locale.ROOT, " %.3f", v));
        }
        return String.format(Locale.ROOT, "validation step %d: loss %.4f (per decoder layer%s)", t.step(), total,
                layers);
    }

    /** The per-layer loss averaged over {@code val} (batch-weighted), without gradients. */
    static double[] validationLoss(Trainer t, List<TrainExample> val, int batch) {
        double[] sum = null;
        for (int i = 0; i < val.size(); i += batch) {
            List<TrainExample> b = val.subList(i, Math.min(val.size(), i + batch));
            try (NDManager m = t.trainable().manager().newSubManager()) {
                NDArray per = t.loss().compute(m, b).perLayer();
                float[] v = per.toFloatArray();
                if (sum == null) {
                    sum = new double[v.length];
                }
                for (int l = 0; l < v.length; l++) {
                    sum[l] += v[l] * b.size();
                }
            }
        }
        for (int l = 0; l < sum.length; l++) {
            sum[l] /= val.size();
        }
        return sum;
    }
}
