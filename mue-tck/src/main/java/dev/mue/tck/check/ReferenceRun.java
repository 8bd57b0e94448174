package dev.mue.tck.check;

import dev.mue.session.decode.BeamSearch;
import java.util.List;

/**
 * The reference's run of a case plus what the suite needs to judge others by it.
 *
 * @param run              the reference's results (encoder outputs in float64, logits in float64)
 * @param firstTieStep     per example, the first step at which the reference's search met a tie
 *                         (two deciding candidates closer than {@link Tolerances#TOKEN_TIE}), or -1
 * @param firstCloseStep   per example, the first step at which a decoder gate of one of its rows
 *                         had a margin below {@link Tolerances#CLOSE_CALL}, or -1
 * @param sharedSearch     per example, the best hypothesis of the API's {@link BeamSearch} over
 *                         the reference (must equal the reference's own search); null when the
 *                         case does not generate
 */
public record ReferenceRun(CaseRun run, int[] firstTieStep, int[] firstCloseStep,
        List<BeamSearch.Hypothesis> sharedSearch) {

    /** The first step from which example {@code e}'s free-running tokens may legitimately differ, or -1. */
    public int ambiguousFrom(int e) {
        int a = firstTieStep[e];
        int b = firstCloseStep[e];
        if (a < 0) {
            return b;
        }
        return b < 0 ? a : Math.min(a, b);
    }
}
