package dev.mue.train.calibrate;

import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.policy.Task;
import java.util.Objects;

/**
 * What to calibrate: the task, the guarantee (risk at most {@code delta} with probability at least
 * {@code 1 - epsilon}) and the calibration data.
 *
 * @param task         captioning or entailment
 * @param delta        the risk bound, in (0, 1)
 * @param epsilon      the error rate of the guarantee, in (0, 1)
 * @param split        the name of the data split the examples come from, as recorded (e.g. {@code validation})
 * @param seed         draws the examples and splits them into the path and test parts
 * @param examples     calibration examples in all
 * @param pathFraction the share of them that chooses the path (the rest test it), in (0, 1)
 * @param grid         the candidate thresholds
 * @param decoding     beam-search settings for captioning
 */
public record CalibrationRequest(Task task, double delta, double epsilon, String split, long seed, int examples,
        double pathFraction, CandidateGrid grid, DecodingOptions decoding) {
    /** The default share of the examples that chooses the path: the test part, which the guarantee rests on, gets more. */
    public static final double DEFAULT_PATH_FRACTION = 0.3;

    /** Validates the ranges; both parts must hold at least one example. */
    public CalibrationRequest {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(split, "split");
        Objects.requireNonNull(grid, "grid");
        Objects.requireNonNull(decoding, "decoding");
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("--risk (delta) must be in (0, 1), got " + delta);
        }
        if (!(epsilon > 0 && epsilon < 1)) {
            throw new IllegalArgumentException("--confidence must be in (0, 1) (it is 1 - epsilon), got " + (1 - epsilon));
        }
        if (!(pathFraction > 0 && pathFraction < 1)) {
            throw new IllegalArgumentException("path fraction must be in (0, 1), got " + pathFraction);
        }
        int path = pathExamples(examples, pathFraction);
        if (path < 1 || examples - path < 1) {
            throw new IllegalArgumentException("--examples " + examples + " leaves no example for the path or the test part");
        }
    }

    /** Examples in the path part. */
    public int pathExamples() {
        return pathExamples(examples, pathFraction);
    }

    /** Examples in the test part. */
    public int testExamples() {
        return examples - pathExamples();
    }

    private static int pathExamples(int n, double f) {
        return (int) Math.round(n * f);
    }
}
