package dev.mue.backend.java;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.model.Weights;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.tensor.FloatTensor;
import dev.mue.api.text.Vocabulary;
import dev.mue.planner.Planner;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Seeded models and inputs shared by the Java backend's tests (not a test itself). */
final class JvFixture {
    static final Vocabulary VOCAB = Vocabulary.fromCorpus(List.of("a shoe and a bag on a white table",
            "two shirts, a dress and a coat", "yes", "no", "maybe", "what does the image describe?"), 200);
    static final PlanShapes SHAPES = new PlanShapes(16, 12);

    private JvFixture() {
    }

    /** d = 30 (not a multiple of any vector width), 3 heads of 10, 3 + 3 layers, 9 image tokens. */
    static ModelConfig config(int encoderLayers, int decoderLayers) {
        return new ModelConfig("jv-test", 30, encoderLayers, decoderLayers, 3, 44, VOCAB.size(), 24, 8, 4, 48,
                new ResNetConfig(4, 4, new int[] {1, 2, 1}), 2.0, 1e-5);
    }

    /**
     * One encoder and one decoder layer over a backbone wide enough for the Winograd convolutions:
     * 3x3 convolutions of stride 1 over 128 channels at 10x10 and over 256 at 5x5 (an odd side), from
     * a 40-pixel image.
     */
    static Model wideBackboneModel(long seed) {
        ModelConfig c = new ModelConfig("jv-wide", 30, 1, 1, 3, 44, VOCAB.size(), 24, 8, 4, 40,
                new ResNetConfig(8, 128, new int[] {1, 2, 1}), 2.0, 1e-5);
        return new Model(c, RandomWeights.generate(c, seed, 0.15), VOCAB, "jv-wide");
    }

    static Model model(long seed) {
        ModelConfig c = config(3, 3);
        // A larger weight scale than OFA's init makes layers change the hidden state enough for
        // similarities to spread over a useful range.
        return new Model(c, RandomWeights.generate(c, seed, 0.15), VOCAB, "jv-test");
    }

    /** The same weights cut to the first {@code layers} encoder and decoder layers. */
    static Model truncated(Model m, int layers) {
        ModelConfig c = config(layers, layers);
        Map<String, int[]> keep = dev.mue.api.model.WeightLayout.expected(c);
        List<FloatTensor> ts = new ArrayList<>();
        for (FloatTensor t : m.weights().all()) {
            if (keep.containsKey(t.name())) {
                ts.add(t);
            }
        }
        return new Model(c, new Weights(ts), m.vocabulary(), "truncated");
    }

    static Plan plan(Model m, ExitPolicy policy) {
        return Planner.compile(m, policy, SHAPES);
    }

    static JvBackend backend(int threads, String kernels) {
        return new JvBackend(new BackendOptions(threads, "", Map.of("kernels", kernels)));
    }

    /** Random image in [-1, 1] and a random token sequence bos + n + eos. */
    static EncoderInput input(ModelConfig c, long seed, int textTokens) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] img = new float[3 * c.imageSize() * c.imageSize()];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) (2 * r.nextDouble() - 1);
        }
        int[] toks = new int[textTokens + 2];
        toks[0] = Vocabulary.BOS;
        for (int i = 1; i <= textTokens; i++) {
            toks[i] = 4 + r.nextInt(VOCAB.size() - 4);
        }
        toks[textTokens + 1] = Vocabulary.EOS;
        return new EncoderInput(img, toks);
    }
}
