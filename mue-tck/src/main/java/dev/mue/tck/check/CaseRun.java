package dev.mue.tck.check;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.session.decode.BeamSearch;
import dev.mue.tck.cases.TckCase;
import dev.mue.tck.reference.RecordingStepper;
import java.util.List;

/**
 * Everything one implementation (the reference or a backend) produced for one case, as plain data
 * that outlives the backend: what the suite compares.
 *
 * @param backend    the implementation's id
 * @param tckCase    the case
 * @param encoded    per example, the encoder's exits and output
 * @param replay     the decoding steps: for the reference, its own beam search recorded; for a
 *                   backend, the same calls replayed (same tokens, thresholds and reorders) with
 *                   the backend's outputs; empty when the case does not generate
 * @param hypotheses per example, the beam search's best hypothesis when run freely on this
 *                   implementation; null when the case does not generate
 * @param scoring    the scoring pass, or null when the case does not score
 * @param singles    per example, the same example run alone (only for batches of more than one)
 */
public record CaseRun(String backend, TckCase tckCase, List<Example> encoded, List<RecordingStepper.Call> replay,
        List<BeamSearch.Hypothesis> hypotheses, Scored scoring, List<Single> singles) {

    /**
     * One example's encoder result.
     *
     * @param exits        the exits, image then text (or joint)
     * @param outputTokens the number of output tokens
     * @param output       the output after the final LayerNorm, {@code [tokens * d]}
     */
    public record Example(List<EncoderExit> exits, int outputTokens, double[] output) {
    }

    /**
     * A scoring pass.
     *
     * @param logits    per row, per scored position, the logits
     * @param exitLayer per example, the last layer run
     * @param gates     per example, the gates
     */
    public record Scored(double[][][] logits, int[] exitLayer, List<List<GateRecord>> gates) {
    }

    /**
     * One example run alone.
     *
     * @param encoded    its encoder result
     * @param hypothesis its best hypothesis, or null when the case does not generate
     * @param scoring    its rows scored alone (as example 0), or null when the case does not score
     */
    public record Single(Example encoded, BeamSearch.Hypothesis hypothesis, Scored scoring) {
    }

    /** The recorded steps only, in order. */
    public List<RecordingStepper.Step> steps() {
        return replay.stream().filter(c -> c instanceof RecordingStepper.Step).map(c -> (RecordingStepper.Step) c)
                .toList();
    }
}
