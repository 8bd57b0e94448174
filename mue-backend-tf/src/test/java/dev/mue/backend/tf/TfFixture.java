package dev.mue.backend.tf;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.Prepared;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.text.Vocabulary;
import dev.mue.planner.Planner;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Seeded models, inputs and backends shared by the tf backend's tests (not a test itself). */
final class TfFixture {
    static final Vocabulary VOCAB = Vocabulary.fromCorpus(List.of("a shoe and a bag on a white table",
            "two shirts, a dress and a coat", "yes", "no", "maybe", "what does the image describe?"), 200);
    static final PlanShapes SHAPES = new PlanShapes(16, 12);

    private static Backend graph;
    private static Backend eager;

    private TfFixture() {
    }

    /** d = 30, 3 heads of 10, 9 image tokens. */
    static ModelConfig config(int encoderLayers, int decoderLayers) {
        return new ModelConfig("tf-test", 30, encoderLayers, decoderLayers, 3, 44, VOCAB.size(), 24, 8, 4, 48,
                new ResNetConfig(4, 4, new int[] {1, 2, 1}), 2.0, 1e-5);
    }

    static Model model(ModelConfig c, long seed) {
        return new Model(c, RandomWeights.generate(c, seed, 0.15), VOCAB, c.name());
    }

    static Plan plan(Model m, ExitPolicy policy) {
        return Planner.compile(m, policy, SHAPES);
    }

    /** The compiled-graph backend (1 thread), shared by the test classes of a run. */
    /** The graph backend's compiled program for {@code plan}, without the runtime's checks in front. */
    static TfExecutable compiled(Plan plan) {
        return (TfExecutable) ((Prepared.Compiled) graph().prepare(plan)).executable();
    }

    static synchronized Backend graph() {
        if (graph == null) {
            graph = new TfBackendProvider().create(new BackendOptions(1, "", Map.of()));
        }
        return graph;
    }

    /** The eager backend (1 thread): the same ops driven from the host. */
    static synchronized Backend eager() {
        if (eager == null) {
            eager = new TfBackendProvider().create(new BackendOptions(1, "", Map.of("mode", "eager")));
        }
        return eager;
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
            toks[i] = 4 + r.nextInt(c.vocabSize() - 4);
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
