package dev.mue.train.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-worked CIDEr-D values; l = ln(number of images) is the idf of an n-gram in one image's references. */
class CiderDTest {

    @Test
    void identicalTwoWordCaptionsScoreFiveBecauseOnlyTwoOrdersExist() {
        // orders 1 and 2 give cosine 1, orders 3 and 4 give 0: (1 + 1 + 0 + 0) / 4 * 10
        double[] s = CiderD.scores(List.of("a b", "c d"), List.of(List.of("a b"), List.of("c d")));
        assertArrayEquals(new double[] {5, 5}, s, 1e-9);
    }

    @Test
    void identicalFourWordCaptionsScoreTen() {
        double[] s = CiderD.scores(List.of("a b c d", "e f g h"), List.of(List.of("a b c d"), List.of("e f g h")));
        assertArrayEquals(new double[] {10, 10}, s, 1e-9);
    }

    @Test
    void anNgramInEveryReferenceSetWeighsNothing() {
        // "x" is in all three reference sets: idf ln3 - ln3 = 0. Candidate "x a" for reference "a x":
        // unigram cosine 1 (only "a" weighs), bigram "x a" absent from the reference: 0.
        double[] s = CiderD.scores(List.of("x a", "b x", "c x"),
                List.of(List.of("a x"), List.of("b x"), List.of("c x")));
        assertEquals(2.5, s[0], 1e-9);
        assertEquals(5.0, s[1], 1e-9);
    }

    @Test
    void clippingAndTheGaussianLengthPenalty() {
        // Candidate "a b c d" for reference "a b" (corpus of 2 images, l = ln 2; every weight is l):
        // order 1: 2 l^2 / (2l * sqrt2 l) = 1/sqrt2; order 2: l^2 / (sqrt3 l * l) = 1/sqrt3;
        // orders 3, 4: the reference has none, 0. Bigram lengths 3 and 1: penalty exp(-4 / 72).
        double expected = (1 / Math.sqrt(2) + 1 / Math.sqrt(3)) * Math.exp(-4.0 / 72) / 4 * 10;
        double[] s = CiderD.scores(List.of("a b c d", "e f"), List.of(List.of("a b"), List.of("e f")));
        assertEquals(expected, s[0], 1e-9);
        assertEquals(5.0, s[1], 1e-9);
        assertEquals((expected + 5.0) / 2, CiderD.corpus(List.of("a b c d", "e f"),
                List.of(List.of("a b"), List.of("e f"))), 1e-9);
    }

    @Test
    void scoresAreAveragedOverReferences() {
        // One matching reference (5) and one disjoint one (0) average to 2.5.
        double[] s = CiderD.scores(List.of("a b", "c d"), List.of(List.of("a b", "y z"), List.of("c d")));
        assertEquals(2.5, s[0], 1e-9);
    }
}
