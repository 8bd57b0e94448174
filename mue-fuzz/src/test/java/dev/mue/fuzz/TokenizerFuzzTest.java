package dev.mue.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.mue.api.MueException;
import dev.mue.api.text.Tokenizer;
import dev.mue.api.text.Vocabulary;
import dev.mue.model.grid.GridModel;
import java.util.List;

/**
 * The tokenizer over the shipped model's vocabulary and over a vocabulary built from the input:
 * normalisation, BPE encoding, decoding of arbitrary indices.
 */
class TokenizerFuzzTest {
    private static final Tokenizer GRID = GridModel.load().tokenizer();

    @FuzzTest(maxDuration = "10s")
    void encodesAndDecodes(FuzzedDataProvider data) {
        String text = data.consumeString(2_000);
        int maxWords = data.consumeInt(0, 200);
        int[] indices = data.consumeInts(64);
        boolean ownVocabulary = data.consumeBoolean();
        try {
            Tokenizer t = ownVocabulary ? new Tokenizer(Vocabulary.fromCorpus(List.of(text, data.consumeRemainingAsString()),
                    data.consumeInt(5, 5_000))) : GRID;
            int size = t.vocabulary().size();
            for (int i : t.encodeWithSpecials(text)) {
                if (i < 0 || i >= size) {
                    throw new AssertionError("encoded index " + i + " outside the vocabulary of " + size);
                }
            }
            t.encode(Tokenizer.normalize(text));
            t.encode(Tokenizer.preCaption(text, maxWords));
            t.encode(Tokenizer.preQuestion(text, maxWords));
            t.decode(indices);
            t.textTokens(size + data.consumeInt(0, 10));
        } catch (MueException expected) {
            // refused input (an index outside the vocabulary, ...)
        }
    }
}
