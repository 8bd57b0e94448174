package dev.mue.api.model;

import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.text.Tokenizer;
import dev.mue.api.text.Vocabulary;

/**
 * A loaded model: its architecture, its weights, its vocabulary and the exit policies that came
 * with it (a bundle's {@code policy.json}; design §10.2).
 *
 * <p>Weights are not checked against the config here; {@code Planner.compile} does that and names
 * every missing, extra or mis-shaped tensor.
 *
 * @param config     the architecture
 * @param weights    the parameters, float32
 * @param vocabulary the fairseq-style dictionary the token ids refer to
 * @param source     where it was loaded from, for messages (a path, a resource, or {@code memory})
 * @param policies   the bundle's exit policies per task; {@link ModelPolicies#none()} when it has none
 * @param sha256     SHA-256 of the bundle files it was loaded from ({@link ModelBundle#sha256}), or null
 *                   for a model built in memory
 */
public record Model(ModelConfig config, Weights weights, Vocabulary vocabulary, String source, ModelPolicies policies,
        String sha256) {

    /** Checks that the vocabulary fits the embedding. */
    public Model {
        if (policies == null) {
            throw new IllegalArgumentException("policies must not be null; use ModelPolicies.none()");
        }
        if (vocabulary.size() > config.vocabSize()) {
            throw new dev.mue.api.ModelFormatException(source + ": vocabulary has " + vocabulary.size()
                    + " entries but the config's vocab_size is " + config.vocabSize());
        }
    }

    /** A model without policies of its own (it runs with the paper's unless given others). */
    public Model(ModelConfig config, Weights weights, Vocabulary vocabulary, String source) {
        this(config, weights, vocabulary, source, ModelPolicies.none(), null);
    }

    /** The same model with other policies. */
    public Model withPolicies(ModelPolicies p) {
        return new Model(config, weights, vocabulary, source, p, sha256);
    }

    /** A tokenizer over this model's vocabulary. */
    public Tokenizer tokenizer() {
        return new Tokenizer(vocabulary);
    }
}
