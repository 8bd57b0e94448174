package dev.mue.train.calibrate;

import dev.mue.api.policy.Certificate;
import dev.mue.api.policy.TaskPolicy;
import java.util.List;

/**
 * The outcome of a calibration: what was tested and, when a candidate was certified, its policy
 * with the certificate.
 *
 * @param request       what was asked
 * @param candidates    the grid's candidates; {@link LearnThenTest.Outcome} indices refer to them
 * @param outcome       the path and the tests run along it
 * @param loss          the per-example loss, in words
 * @param method        the p-value used
 * @param dataSha256    hash of the calibration examples
 * @param modelSha256   hash of the model
 * @param policy        the certified policy with its certificate, or null when nothing was certified
 * @param smallestDelta the smallest delta the first candidate on the path could have been certified
 *                      at (on the same test losses), or NaN when the path was empty
 */
public record Calibration(CalibrationRequest request, List<CandidateGrid.Point> candidates,
        LearnThenTest.Outcome outcome, String loss, PValueMethod method, String dataSha256, String modelSha256,
        TaskPolicy policy, double smallestDelta) {

    /** Whether a policy was certified. */
    public boolean certified() {
        return policy != null;
    }

    /** The certificate of the certified policy. */
    public Certificate certificate() {
        if (policy == null) {
            throw new IllegalStateException("nothing certified at risk " + request.delta());
        }
        return policy.certificate();
    }
}
