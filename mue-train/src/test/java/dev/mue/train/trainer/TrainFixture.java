package dev.mue.train.trainer;

import dev.mue.api.MueSession;
import dev.mue.api.image.ImagePreprocessor;
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
    static final GridTasks TASKS = new GridTasks(FashionMnist.load().train());
    static final Vocabulary VOCAB = vocabulary();
    static final Tokenizer TOKENIZER = new Tokenizer(VOCAB);
    static final ModelConfig CONFIG = new ModelConfig("train-test", 32, 2, 2, 4, 64, VOCAB.size(), 64, 16, 4, 48,
            new ResNetConfig(8, 8, new int[] {1, 1, 1}), 2.0, 1e-5);
    static final PlanShapes SHAPES = new PlanShapes(40, 40);

    private TrainFixture() {
    }

    private static Vocabulary vocabulary() {
        List<String> corpus = new ArrayList<>();
        // the corpus of every seed the tests draw examples from
        for (long seed : new long[] {3, 4, 11, 12}) {
            TASKS.captions(seed, 64).forEach(c -> corpus.add(c.caption()));
            TASKS.entailments(seed, 64).forEach(e -> corpus.add(MueSession.entailmentPrompt(e.hypothesis(), null).strip()));
        }
        corpus.addAll(MueSession.ENTAILMENT_ANSWERS);
        corpus.add(MueSession.CAPTION_PROMPT.strip());
        return Vocabulary.fromCorpus(corpus, 1000);
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

    /** As {@link #examples(long, int)}, images preprocessed to {@code size}. */
    static List<TrainExample> examples(long seed, int count, int size) {
        var caps = TASKS.captions(seed, count / 2);
        var ents = TASKS.entailments(seed + 1, count - count / 2);
        int[] capPrompt = TOKENIZER.encodeWithSpecials(MueSession.CAPTION_PROMPT);
        List<int[]> answers = answers();
        List<TrainExample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            if (i % 2 == 0 && i / 2 < caps.size()) {
                var c = caps.get(i / 2);
                int[] caption = noUnk(TOKENIZER.encode(" " + Tokenizer.normalize(c.caption())));
                out.add(TrainExample.caption(pixels(c.grid(), size), capPrompt, caption));
            } else {
                var e = ents.get(Math.min(i / 2, ents.size() - 1));
                int[] prompt = noUnk(TOKENIZER.encodeWithSpecials(MueSession.entailmentPrompt(e.hypothesis(), null)));
                out.add(TrainExample.entailment(pixels(e.grid(), size), prompt, answers,
                        MueSession.ENTAILMENT_ANSWERS.indexOf(e.answer())));
            }
        }
        return out;
    }

    static float[] pixels(GridTasks.Grid g, int size) {
        return ImagePreprocessor.preprocess(TASKS.render(g), size);
    }

    private static int[] noUnk(int[] t) {
        for (int x : t) {
            if (x == Vocabulary.UNK) {
                throw new IllegalStateException("token outside the corpus vocabulary");
            }
        }
        return t;
    }
}
