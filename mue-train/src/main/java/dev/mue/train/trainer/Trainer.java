package dev.mue.train.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.safetensors.SafetensorsFile;
import dev.mue.api.safetensors.SafetensorsWriter;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.Backends;
import dev.mue.api.tensor.DType;
import dev.mue.api.tensor.FloatTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a model with the {@link LayerWiseLoss} on the PyTorch engine: Adam with decoupled weight
 * decay, linear warm-up then linear decay ({@link TrainerOptions#learningRate(int)}), clipping of
 * the gradients by their global L2 norm, and a data order that depends only on the seed and the
 * step, so a run is reproducible and a resumed run continues exactly where the checkpoint was
 * taken: bit for bit with one libtorch thread. With two threads, runs were seen to differ by about
 * 1e-5 in the loss after the first update (some parallel libtorch kernel sums in a varying order,
 * likely the scatter-add behind the embedding lookup's backward). A step whose gradient norm is not
 * finite is skipped (no update), as fairseq does, and reported with that norm.
 *
 * <p>A checkpoint directory holds the model bundle in F32 ({@code config.json},
 * {@code model.safetensors}, {@code dict.txt}), {@value #STATE} (step and seed) and
 * {@value #OPTIMIZER} (Adam's moments, {@code m.<i>} and {@code v.<i>} in the order of
 * {@link TrainableModel#leaves()}). {@link #export(Path)} writes the final bundle with F16 weights.
 *
 * <p>The optimiser is written here rather than taken from DJL's {@code Optimizer.adam()}: DJL keeps
 * Adam's moments private (so they could not be checkpointed) and has no global-norm clipping.
 */
public final class Trainer implements AutoCloseable {
    /** The checkpoint's small JSON file. */
    public static final String STATE = "trainer.json";
    /** The checkpoint's optimiser moments. */
    public static final String OPTIMIZER = "optimizer.safetensors";

    private final TrainerOptions options;
    private final NDManager root;
    private final TrainableModel model;
    private final LayerWiseLoss loss;
    private final List<String> keys;
    private final List<NDArray> first = new ArrayList<>();
    private final List<NDArray> second = new ArrayList<>();
    private final Map<Integer, int[]> orders = new HashMap<>();
    private int step;

    /**
     * A trainer starting at step 0 from {@code model}'s weights.
     *
     * @param shapes  the longest encoder text and decoder input the batches may have
     * @param threads libtorch's intra-op threads (0: the backend's default)
     */
    public Trainer(Model model, TrainerOptions options, PlanShapes shapes, int threads) {
        this(model, options, shapes, threads, 0, null);
    }

    private Trainer(Model model, TrainerOptions options, PlanShapes shapes, int threads, int step, Path moments) {
        this.options = options;
        this.step = step;
        // Creating the backend starts the engine as the backend does (offline, bundled natives,
        // thread count); the backend itself is not needed afterwards.
        Backends.create("torch", new BackendOptions(threads, "", Map.of())).close();
        this.root = Engine.getEngine("PyTorch").newBaseManager();
        this.model = new TrainableModel(model, shapes, root);
        this.loss = new LayerWiseLoss(this.model, options.finalLayerOnly());
        this.keys = List.copyOf(this.model.leaves().keySet());
        NDManager state = this.model.manager();
        List<NDArray> leaves = new ArrayList<>(this.model.leaves().values());
        try (SafetensorsFile f = moments == null ? null : SafetensorsFile.open(moments)) {
            for (int i = 0; i < leaves.size(); i++) {
                NDArray w = leaves.get(i);
                if (f == null) {
                    first.add(state.zeros(w.getShape()));
                    second.add(state.zeros(w.getShape()));
                } else {
                    first.add(state.create(f.readFloat("m." + i).data(), w.getShape()));
                    second.add(state.create(f.readFloat("v." + i).data(), w.getShape()));
                }
            }
        }
    }

    /** Continues from a checkpoint written by {@link #checkpoint(Path)}. */
    public static Trainer resume(Path checkpoint, TrainerOptions options, PlanShapes shapes, int threads) {
        Model m = ModelBundle.load(checkpoint);
        String json;
        try {
            json = Files.readString(checkpoint.resolve(STATE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int step = Integer.parseInt(field(json, "step"));
        long seed = Long.parseLong(field(json, "seed"));
        if (seed != options.seed()) {
            throw new IllegalArgumentException("checkpoint was trained with seed " + seed + ", options say "
                    + options.seed());
        }
        Matcher fl = Pattern.compile("\"final_layer_only\"\\s*:\\s*([01])").matcher(json);
        boolean finalOnly = fl.find() && fl.group(1).equals("1");
        if (finalOnly != options.finalLayerOnly()) {
            throw new IllegalArgumentException("checkpoint was trained with the " + (finalOnly ? "final-layer" : "layer-wise")
                    + " loss, options say the " + (options.finalLayerOnly() ? "final-layer" : "layer-wise") + " loss");
        }
        Matcher er = Pattern.compile("\"encoder_exit_rate\"\\s*:\\s*([0-9.eE+-]+)").matcher(json);
        double rate = er.find() ? Double.parseDouble(er.group(1)) : 0;
        if (rate != options.encoderExitRate()) {
            throw new IllegalArgumentException("checkpoint was trained with encoder exit rate " + rate
                    + ", options say " + options.encoderExitRate());
        }
        return new Trainer(m, options, shapes, threads, step, checkpoint.resolve(OPTIMIZER));
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*(-?\\d+)").matcher(json);
        if (!m.find()) {
            throw new IllegalArgumentException(STATE + " lacks \"" + name + "\"");
        }
        return m.group(1);
    }

    /** Steps done so far. */
    public int step() {
        return step;
    }

    /** The parameters being trained. */
    public TrainableModel trainable() {
        return model;
    }

    /** The loss the trainer minimises. */
    public LayerWiseLoss loss() {
        return loss;
    }

    /** The dataset indices of the batch of 0-based step {@code s}: epoch-wise seeded permutations. */
    public int[] batchIndices(int s, int datasetSize) {
        int[] out = new int[options.batchSize()];
        for (int j = 0; j < out.length; j++) {
            long k = (long) s * out.length + j;
            int epoch = (int) (k / datasetSize);
            int[] perm = orders.computeIfAbsent(epoch, e -> permutation(options.seed(), e, datasetSize));
            out[j] = perm[(int) (k % datasetSize)];
        }
        return out;
    }

    private static int[] permutation(long seed, int epoch, int n) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + epoch);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Runs steps until {@code untilStep} steps are done, reporting each to {@code progress} (may be null). */
    public List<Progress> train(List<TrainExample> data, int untilStep, Consumer<Progress> progress) {
        List<Progress> out = new ArrayList<>();
        while (step < untilStep) {
            Progress p = trainStep(data);
            out.add(p);
            if (progress != null) {
                progress.accept(p);
            }
        }
        return out;
    }

    /** One optimisation step on the batch {@link #batchIndices} picks for the current step. */
    public Progress trainStep(List<TrainExample> data) {
        long t0 = System.nanoTime();
        List<TrainExample> batch = new ArrayList<>();
        for (int i : batchIndices(step, data.size())) {
            batch.add(data.get(i));
        }
        List<NDArray> leaves = new ArrayList<>(model.leaves().values());
        double lr = options.learningRate(step);
        double value;
        double norm;
        try (NDManager sm = model.manager().newSubManager()) {
            Engine engine = Engine.getEngine("PyTorch");
            try (GradientCollector gc = engine.newGradientCollector()) {
                model.training(true);
                LayerWiseLoss.Output o = loss.compute(sm, batch, options.encoderExitRate() > 0
                        ? options.encoderDepths(step, batch.size(), model.config().encoderLayers()) : null);
                gc.backward(o.total());
                value = o.total().getFloat();
            } finally {
                model.training(false);
            }
            List<NDArray> grads = new ArrayList<>(leaves.size());
            double sq = 0;
            for (NDArray w : leaves) {
                NDArray g = w.getGradient();
                g.attach(sm);
                grads.add(g);
                NDArray s = g.square().sum();
                sq += s.getFloat();
            }
            norm = Math.sqrt(sq);
            if (!Double.isFinite(norm)) {
                // an overflowing gradient: skip the update (as fairseq does) but count the step
                for (NDArray g : grads) {
                    g.muli(0f);
                }
                step++;
                return new Progress(step, value, lr, norm, batch.size() / ((System.nanoTime() - t0) / 1e9));
            }
            double clip = options.clipNorm() > 0 && norm > options.clipNorm() ? options.clipNorm() / (norm + 1e-6) : 1.0;
            int t = step + 1;
            double bc1 = 1 - Math.pow(options.beta1(), t);
            double bc2 = 1 - Math.pow(options.beta2(), t);
            float b1 = (float) options.beta1();
            float b2 = (float) options.beta2();
            for (int i = 0; i < leaves.size(); i++) {
                NDArray w = leaves.get(i);
                NDArray g = grads.get(i).mul((float) clip);
                NDArray m = first.get(i);
                NDArray v = second.get(i);
                m.muli(b1).addi(g.mul(1 - b1));
                v.muli(b2).addi(g.square().mul(1 - b2));
                NDArray mh = tmp(sm, m.div((float) bc1));
                NDArray denom = tmp(sm, v.div((float) bc2)).sqrt().add((float) options.adamEps());
                NDArray update = mh.div(denom).mul((float) lr);
                if (options.weightDecay() > 0) {
                    w.muli((float) (1 - lr * options.weightDecay()));
                }
                w.subi(update);
                grads.get(i).muli(0f);
            }
        }
        step++;
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Progress(step, value, lr, norm, batch.size() / seconds);
    }

    private static NDArray tmp(NDManager sm, NDArray a) {
        a.attach(sm);
        return a;
    }

    /** The current weights as a model. */
    public Model model() {
        return model.toModel();
    }

    /** Writes a checkpoint (F32 bundle, step and seed, Adam's moments) into {@code dir}. */
    public void checkpoint(Path dir) throws IOException {
        Model m = model();
        ModelBundle.write(dir, m.config(), m.weights(), m.vocabulary(), DType.F32);
        List<FloatTensor> moments = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            int[] shape = shape(first.get(i));
            moments.add(new FloatTensor("m." + i, shape, first.get(i).toFloatArray()));
            moments.add(new FloatTensor("v." + i, shape.clone(), second.get(i).toFloatArray()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("mue.trainer.step", Integer.toString(step));
        meta.put("mue.trainer.tensors", Integer.toString(keys.size()));
        SafetensorsWriter.write(dir.resolve(OPTIMIZER), moments, DType.F32, meta);
        Files.writeString(dir.resolve(STATE), "{\n  \"step\": " + step + ",\n  \"seed\": " + options.seed()
                + ",\n  \"parameters\": " + keys.size() + ",\n  \"final_layer_only\": "
                + (options.finalLayerOnly() ? 1 : 0) + ",\n  \"encoder_exit_rate\": " + options.encoderExitRate() + "\n}\n");
    }

    private static int[] shape(NDArray a) {
        long[] s = a.getShape().getShape();
        int[] out = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = (int) s[i];
        }
        return out;
    }

    /** Writes the final bundle: {@code config.json}, {@code model.safetensors} in F16, {@code dict.txt}. */
    public void export(Path dir) throws IOException {
        Model m = model();
        ModelBundle.write(dir, m.config(), m.weights(), m.vocabulary(), DType.F16);
    }

    @Override
    public void close() {
        root.close();
    }
}
