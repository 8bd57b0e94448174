package dev.mue.train.trainer;

import dev.mue.session.MueSession;
import dev.mue.session.image.ImagePreprocessor;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.text.Tokenizer;
import dev.mue.api.text.Vocabulary;
import dev.mue.train.data.FashionMnist;
import dev.mue.train.data.GridTasks;
import java.util.ArrayList;
import java.util.List;

/** The tiny model and real Fashion-MNIST grid examples the trainer tests share (not a test). */
final class TrainFixture {
    private static final FashionMnist.Split TRAIN = FashionMnist.load().train();
    static final GridTasks TASKS = new GridTasks(TRAIN);
    static final Vocabulary VOCAB = GridTraining.vocabulary();
    static final Tokenizer TOKENIZER = new Tokenizer(VOCAB);
    static final ModelConfig CONFIG = new ModelConfig("train-test", 32, 2, 2, 4, 64, VOCAB.size(), 64, 16, 4, 48,
            new ResNetConfig(8, 8, new int[] {1, 1, 1}), 2.0, 1e-5);
    static final PlanShapes SHAPES = new PlanShapes(40, 40);

    private TrainFixture() {
    }

    static Model model(long seed) {
        return new Model(CONFIG, RandomWeights.generate(CONFIG, seed, 0.1), VOCAB, "train-test");
    }

    static List<int[]> answers() {
        List<int[]> a = new ArrayList<>();
        for (String s : MueSession.ENTAILMENT_ANSWERS) {
            a.add(TOKENIZER.encode(" " + s));
        }
        return a;
    }

    /** {@code count} examples, half captioning and half entailment, interleaved, from seed {@code seed}. */
    static List<TrainExample> examples(long seed, int count) {
        return examples(seed, count, CONFIG.imageSize());
    }

    /** As {@link #examples(long, int)}, images preprocessed to {@code size}: the recipe's own examples. */
    static List<TrainExample> examples(long seed, int count, int size) {
        return new ArrayList<>(new GridTraining(TRAIN, size).examples(seed, count));
    }

    static float[] pixels(GridTasks.Grid g, int size) {
        return ImagePreprocessor.preprocess(TASKS.render(g), size);
    }
}
