package dev.mue.tck.check;

/**
 * The tolerances of the conformance suite (design §7), for float32 backends against the float64
 * reference.
 *
 * <ul>
 *   <li><b>Vectors</b> (an example's encoder output, a row's logits at one position): the error is
 *       {@code max_i |a_i - b_i| / rms(ref)}, the largest deviation relative to the reference
 *       vector's root mean square; it must be at most {@link #VECTOR} (1e-4) against the reference
 *       and {@link #VECTOR_BETWEEN_BACKENDS} (2e-4) between two float32 backends.</li>
 *   <li><b>Similarities</b>: {@code |a - b| <= }{@link #SIMILARITY} (1e-4), absolute (cosines are
 *       in [-1, 1]).</li>
 *   <li><b>Decisions</b>: identical wherever the reference's margin {@code |s - threshold|} is at
 *       least {@link #CLOSE_CALL} (1e-4). Closer decisions are counted as close calls and
 *       reported; where a close call went the other way, nothing that depends on it is compared
 *       (that example's encoder output and decoding, or that decoder row from then on).</li>
 *   <li><b>Tokens</b>: a backend's own beam search must find the reference's best hypotheses
 *       (same tokens, same exit layer at every step, score within the next item's tolerance).
 *       A difference is excused only for an example whose reference search met two deciding
 *       candidates closer than {@link #TOKEN_TIE} (1e-3) in log-probability (for greedy search,
 *       the top-2 logit gap) or a close call; it is counted as a token tie, and greedy sequences
 *       must still agree up to that step. (Every step is also compared on its own: the
 *       reference's search is replayed call for call on the backend.)</li>
 *   <li><b>Beam scores</b>: {@code |a - b| <= }{@link #VECTOR}{@code * max(1, |ref|)}.</li>
 *   <li><b>Thresholds</b> recorded in gates: equal to within {@link #THRESHOLD} (1e-12): a
 *       backend echoes what it was given.</li>
 * </ul>
 */
public final class Tolerances {
    /** Relative vector error allowed against the reference. */
    public static final double VECTOR = 1e-4;
    /** Relative vector error allowed between two float32 backends. */
    public static final double VECTOR_BETWEEN_BACKENDS = 2e-4;
    /** Absolute similarity error allowed. */
    public static final double SIMILARITY = 1e-4;
    /** Reference margins below this are close calls. */
    public static final double CLOSE_CALL = 1e-4;
    /** Log-probability gap below which two ranked candidates are a tie. */
    public static final double TOKEN_TIE = 1e-3;
    /** Gate thresholds must be echoed to within this. */
    public static final double THRESHOLD = 1e-12;

    private Tolerances() {
    }

    /** {@code max |a - b| / rms(ref)}; {@code ref} only sets the scale. */
    public static double vectorError(double[] a, double[] b, double[] ref) {
        if (a.length != b.length) {
            return Double.POSITIVE_INFINITY;
        }
        double ss = 0;
        for (double v : ref) {
            ss += v * v;
        }
        double rms = Math.sqrt(ss / Math.max(1, ref.length));
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double e = Math.abs(a[i] - b[i]);
            if (Double.isNaN(e)) {
                return Double.NaN; // fails every "err <= tolerance" check, wherever the NaN sits
            }
            max = Math.max(max, e);
        }
        return max / Math.max(rms, 1e-12);
    }
}
