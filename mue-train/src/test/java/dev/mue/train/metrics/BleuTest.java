package dev.mue.train.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-worked BLEU values (counts written out in the comments). */
class BleuTest {

    @Test
    void identicalCaptionScoresOne() {
        assertEquals(1.0, Bleu.corpus(List.of("a bag and a shoe"), List.of(List.of("a bag and a shoe")), 4), 1e-8);
    }

    @Test
    void clippedPrecisionsOfOrdersOneAndTwo() {
        // cand "the cat sat on the mat", ref "the cat is on the mat":
        // unigrams: the 2 (clipped 2), cat, on, mat match, sat not: 5/6
        // bigrams: "the cat", "on the", "the mat" of 5: 3/5
        List<String> c = List.of("The cat sat on the mat.");
        List<List<String>> r = List.of(List.of("the cat is on the mat"));
        assertEquals(5.0 / 6, Bleu.corpus(c, r, 1), 1e-9);
        assertEquals(Math.sqrt(5.0 / 6 * 3.0 / 5), Bleu.corpus(c, r, 2), 1e-9);
        // trigrams: only "on the mat" of 4 matches: 1/4; no 4-gram matches, so BLEU-4 is ~0
        assertEquals(Math.cbrt(5.0 / 6 * 3.0 / 5 / 4), Bleu.corpus(c, r, 3), 1e-9);
        assertEquals(0.0, Bleu.corpus(c, r, 4), 1e-3);
    }

    @Test
    void brevityPenaltyUsesTheClosestReferenceLengthTiesToTheShorter() {
        // 2 words against 6: exp(1 - 6/2)
        assertEquals(Math.exp(-2), Bleu.corpus(List.of("the cat"), List.of(List.of("the cat is on the mat")), 1), 1e-9);
        // 3 words, references of 2 and 4 words: the tie goes to 2, so no penalty (precision 2/3)
        assertEquals(2.0 / 3, Bleu.corpus(List.of("a red bag"), List.of(List.of("a bag", "a bag on grass")), 1), 1e-9);
        // 3 words, references of 4 and 5: closest is 4, penalty exp(1 - 4/3)
        assertEquals(Math.exp(1 - 4.0 / 3), Bleu.corpus(List.of("a bag here"),
                List.of(List.of("a bag here now", "a bag here right now")), 1), 1e-9);
    }

    @Test
    void countsAreSummedOverTheCorpusBeforeTheMean() {
        // unigram precision (2 + 0) / (2 + 2) = 0.5 overall, not the mean of 1 and 0 per sentence
        double b = Bleu.corpus(List.of("a b", "c d"), List.of(List.of("a b"), List.of("e f")), 1);
        assertEquals(0.5, b, 1e-9);
    }
}
