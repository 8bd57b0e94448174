package dev.mue.train.trainer;

import dev.mue.session.MueSession;
import dev.mue.session.image.ImagePreprocessor;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.model.Weights;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.tensor.FloatTensor;
import dev.mue.api.text.Tokenizer;
import dev.mue.api.text.Vocabulary;
import dev.mue.train.data.FashionMnist;
import dev.mue.train.data.GridTasks;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.RandomAccess;
import java.util.SplittableRandom;

/**
 * The recipe of the shipped default model: its vocabulary, architecture and initial weights, and
 * the multi-task training data (captioning and visual entailment, interleaved) built lazily from
 * the Fashion-MNIST grid tasks of one split.
 *
 * <p>Everything here is a function of the seed and the dataset files: the vocabulary comes from
 * {@link GridTasks#templateCorpus()} plus the prompts and answers, so it covers every text the
 * tasks can produce; example {@code i} is a caption example for even {@code i} and an entailment
 * example for odd {@code i}, each drawn from its own grid stream, rendered and preprocessed when
 * the trainer asks for it (nothing is held in memory).
 */
public final class GridTraining {
    /** Name of the shipped architecture. */
    public static final String CONFIG_NAME = "mue-grid";
    /** Standard deviation of the initial weight matrices (OFA's). */
    public static final double INIT_STD = 0.02;

    private final GridTasks tasks;
    private final Tokenizer tokenizer;
    private final ModelConfig config;
    private final int[] captionPrompt;
    private final List<int[]> answers;

    /** Examples over the images of {@code split}, tokenised with {@link #vocabulary()}. */
    public GridTraining(FashionMnist.Split split) {
        this(split, 2 * GridTasks.CELL);
    }

    /**
     * As {@link #GridTraining(FashionMnist.Split)}, with the grids preprocessed to
     * {@code imageSize} pixels (for smaller test models); {@link #config()} says the same size.
     */
    public GridTraining(FashionMnist.Split split, int imageSize) {
        this.tasks = new GridTasks(split);
        Vocabulary v = vocabulary();
        this.tokenizer = new Tokenizer(v);
        this.config = config(v.size()).withImageSize(imageSize);
        this.captionPrompt = tokenizer.encodeWithSpecials(MueSession.CAPTION_PROMPT);
        this.answers = new ArrayList<>();
        for (String s : MueSession.ENTAILMENT_ANSWERS) {
            answers.add(tokenizer.encode(" " + s));
        }
    }

    /** The vocabulary of the grid tasks: every template phrase, both prompts and the answers. */
    public static Vocabulary vocabulary() {
        List<String> corpus = new ArrayList<>(GridTasks.templateCorpus());
        for (String s : GridTasks.templateCorpus()) {
            corpus.add(MueSession.entailmentPrompt(s, null).strip());
        }
        corpus.addAll(MueSession.ENTAILMENT_ANSWERS);
        corpus.add(MueSession.CAPTION_PROMPT.strip());
        return Vocabulary.fromCorpus(corpus, 1000);
    }

    /**
     * The shipped architecture: OFA-shaped with 6 encoder and 6 decoder layers (as OFA-base, the
     * paper's model), d = 128, 4 heads, FFN 512, 64 px images through a 3-stage ResNet of width 16
     * (16 image tokens), positions up to 64.
     */
    public static ModelConfig config(int vocabSize) {
        return new ModelConfig(CONFIG_NAME, 128, 6, 6, 4, 512, vocabSize, 64, 16, 8, 2 * GridTasks.CELL,
                new ResNetConfig(16, 16, new int[] {1, 1, 1}), 2.0, 1e-5);
    }

    /**
     * The seeded initial model: the transformer as OFA initialises it (normal, std
     * {@value #INIT_STD}); the ResNet as torchvision does (convolutions Kaiming-normal over their
     * fan-out, BatchNorm the identity: weight 1, bias 0, running mean 0, variance 1). With std 0.02
     * convolutions every layer of the backbone shrinks the signal about fourfold, so the image
     * tokens leave the backbone as a constant and the model never learns to look at the image.
     */
    public static Model initialModel(long seed) {
        Vocabulary v = vocabulary();
        ModelConfig c = config(v.size());
        SplittableRandom r = new SplittableRandom(seed ^ 0x5EED_1A7E_C0DEL);
        List<FloatTensor> tensors = new ArrayList<>();
        for (FloatTensor t : RandomWeights.generate(c, seed, INIT_STD).all()) {
            String n = t.name();
            float[] data = t.data();
            if (n.startsWith(BACKBONE)) {
                int[] shape = t.shape();
                if (shape.length == 4) {
                    double std = Math.sqrt(2.0 / ((long) shape[0] * shape[2] * shape[3]));
                    data = new float[data.length];
                    for (int i = 0; i < data.length; i++) {
                        data[i] = (float) (r.nextGaussian() * std);
                    }
                } else {
                    boolean one = n.endsWith(".weight") || n.endsWith(".running_var");
                    data = new float[data.length];
                    java.util.Arrays.fill(data, one ? 1f : 0f);
                }
            }
            tensors.add(new FloatTensor(n, t.shape(), data));
        }
        return new Model(c, new Weights(tensors), v, CONFIG_NAME + " (seed " + seed + ")");
    }

    /** Prefix of the ResNet backbone's weights. */
    static final String BACKBONE = "encoder.embed_images.";

    /** The folded shapes training covers (the longest texts the tasks produce fit with room to spare). */
    public static PlanShapes shapes() {
        return new PlanShapes(40, 40);
    }

    /** The architecture examples are built for. */
    public ModelConfig config() {
        return config;
    }

    /** The tasks the examples come from. */
    public GridTasks tasks() {
        return tasks;
    }

    /**
     * {@code count} examples, even indices captioning and odd ones entailment, from grid streams
     * seeded with {@code seed}; built on access.
     */
    public List<TrainExample> examples(long seed, int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be 0 or more, got " + count);
        }
        return new LazyExamples(seed, count);
    }

    /** Example {@code i} of the stream seeded with {@code seed}. */
    public TrainExample example(long seed, int i) {
        int k = i / 2;
        if (i % 2 == 0) {
            GridTasks.Grid g = tasks.grid(seed, k);
            String text = tasks.caption(g);
            int[] caption = checked(tokenizer.encode(" " + Tokenizer.normalize(text)), text);
            return TrainExample.caption(pixels(g), captionPrompt, caption);
        }
        // a separate stream for entailment, so the two tasks do not share grids
        GridTasks.EntailmentExample e = tasks.entailment(seed + 1, k);
        String prompt = MueSession.entailmentPrompt(e.hypothesis(), null);
        int[] tokens = checked(tokenizer.encodeWithSpecials(prompt), prompt);
        return TrainExample.entailment(pixels(e.grid()), tokens, answers,
                MueSession.ENTAILMENT_ANSWERS.indexOf(e.answer()));
    }

    private float[] pixels(GridTasks.Grid g) {
        return ImagePreprocessor.preprocess(tasks.render(g), config.imageSize());
    }

    private static int[] checked(int[] tokens, String text) {
        for (int t : tokens) {
            if (t == Vocabulary.UNK) {
                throw new IllegalStateException("'" + text + "' has a token outside the task vocabulary");
            }
        }
        return tokens;
    }

    private final class LazyExamples extends AbstractList<TrainExample> implements RandomAccess {
        private final long seed;
        private final int count;

        LazyExamples(long seed, int count) {
            this.seed = seed;
            this.count = count;
        }

        @Override
        public TrainExample get(int index) {
            if (index < 0 || index >= count) {
                throw new IndexOutOfBoundsException(index);
            }
            return example(seed, index);
        }

        @Override
        public int size() {
            return count;
        }
    }
}
