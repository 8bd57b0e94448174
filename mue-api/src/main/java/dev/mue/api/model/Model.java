package dev.mue.api.model;

import dev.mue.api.text.Tokenizer;
import dev.mue.api.text.Vocabulary;

/**
 * A loaded model: its architecture, its weights and its vocabulary.
 *
 * <p>Weights are not checked against the config here; {@code Planner.compile} does that and names
 * every missing, extra or mis-shaped tensor.
 *
 * @param config     the architecture
 * @param weights    the parameters, float32
 * @param vocabulary the fairseq-style dictionary the token ids refer to
 * @param source     where it was loaded from, for messages (a path, a resource, or {@code memory})
 */
public record Model(ModelConfig config, Weights weights, Vocabulary vocabulary, String source) {

    /** Checks that the vocabulary fits the embedding. */
    public Model {
        if (vocabulary.size() > config.vocabSize()) {
            throw new dev.mue.api.ModelFormatException(source + ": vocabulary has " + vocabulary.size()
                    + " entries but the config's vocab_size is " + config.vocabSize());
        }
    }

    /** A tokenizer over this model's vocabulary. */
    public Tokenizer tokenizer() {
        return new Tokenizer(vocabulary);
    }
}
