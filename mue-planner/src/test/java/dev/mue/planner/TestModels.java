package dev.mue.planner;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.text.Vocabulary;
import java.util.List;

/** Small seeded models for the planner's tests. */
final class TestModels {
    private TestModels() {
    }

    static final Vocabulary VOCAB = Vocabulary.fromCorpus(List.of("a shoe and a bag", "yes", "no", "maybe",
            "what does the image describe?"), 100);

    static ModelConfig small() {
        return new ModelConfig("test-small", 24, 3, 2, 3, 40, VOCAB.size(), 40, 8, 4, 48,
                new ResNetConfig(4, 4, new int[] {1, 1, 1}), 2.0, 1e-5);
    }

    static Model model(ModelConfig c, long seed) {
        return new Model(c, RandomWeights.generate(c, seed), VOCAB, "test");
    }
}
