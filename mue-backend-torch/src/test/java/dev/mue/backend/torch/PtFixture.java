package dev.mue.backend.torch;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.text.Vocabulary;
import dev.mue.backend.java.JvBackendProvider;
import dev.mue.planner.Planner;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Seeded models, inputs and backends shared by the torch backend's tests (not a test itself). */
final class PtFixture {
    static final Vocabulary VOCAB = Vocabulary.fromCorpus(List.of("a shoe and a bag on a white table",
            "two shirts, a dress and a coat", "yes", "no", "maybe", "what does the image describe?"), 200);
    static final PlanShapes SHAPES = new PlanShapes(16, 12);

    private static Backend torch;
    private static Backend java;

    private PtFixture() {
    }

    /** d = 30, 3 heads of 10, 9 image tokens: the Java backend's test shape. */
    static ModelConfig config(int encoderLayers, int decoderLayers) {
        return new ModelConfig("pt-test", 30, encoderLayers, decoderLayers, 3, 44, VOCAB.size(), 24, 8, 4, 48,
                new ResNetConfig(4, 4, new int[] {1, 2, 1}), 2.0, 1e-5);
    }

    static Model model(long seed) {
        ModelConfig c = config(3, 3);
        return new Model(c, RandomWeights.generate(c, seed, 0.15), VOCAB, "pt-test");
    }

    static Plan plan(Model m, ExitPolicy policy) {
        return Planner.compile(m, policy, SHAPES);
    }

    /** One torch backend (2 threads) shared by the test classes of a run: the engine starts once anyway. */
    static synchronized Backend torch() {
        if (torch == null) {
            torch = new PtBackendProvider().create(new BackendOptions(1, "", Map.of()));
        }
        return torch;
    }

    /** The Java backend with its scalar control kernels, the reference the torch results are compared with. */
    static synchronized Backend java() {
        if (java == null) {
            java = new JvBackendProvider().create(new BackendOptions(1, "", Map.of("kernels", "naive")));
        }
        return java;
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

    static List<EncoderInput> inputs(ModelConfig c, int n) {
        List<EncoderInput> in = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            in.add(input(c, 100 + i, 2 + (i * 5) % 12));
        }
        return in;
    }
}
