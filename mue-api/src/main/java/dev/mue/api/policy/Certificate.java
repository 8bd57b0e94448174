package dev.mue.api.policy;

import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a calibrated exit policy guarantees and how that was established (Learn-then-Test,
 * Angelopoulos et al.): with probability at least {@code 1 - epsilon} over the draw of the
 * calibration data, the policy's risk (expected per-example {@link #loss() loss} against the same
 * model at full depth) is at most {@code delta}.
 *
 * <p>Everything needed to check or repeat the calibration is recorded: the candidate grid, the
 * path it was tested along with each step's risk and p-value, the split sizes and seed, and
 * SHA-256 hashes of the calibration data and of the model. The measured saving is what the
 * policy cost and saved on the test part of the calibration data.
 *
 * @param task          {@code caption} or {@code entail}
 * @param loss          the per-example loss, bounded in [0, 1], in words
 * @param delta         the risk bound, in (0, 1)
 * @param epsilon       the error rate of the guarantee, in (0, 1); confidence is {@code 1 - epsilon}
 * @param n             examples the p-value was computed on (the test part)
 * @param empiricalRisk the mean loss on those examples at the chosen point
 * @param pValue        the p-value of "risk > delta" at the chosen point
 * @param pValueMethod  how p-values were computed, e.g. {@code exact binomial tail}
 * @param fwerMethod    how the family-wise error over the candidates is controlled
 * @param data          the calibration data: split, seed, sizes and hash
 * @param modelSha256   SHA-256 of the model (config, vocabulary and weights as loaded), 64 hex digits
 * @param grid          the candidate thresholds
 * @param path          the candidates in the order they were tested, with what each step found
 * @param measured      the measured layers and wall-clock saving at the chosen point
 */
public record Certificate(String task, String loss, double delta, double epsilon, int n, double empiricalRisk,
        double pValue, String pValueMethod, String fwerMethod, Data data, String modelSha256, Grid grid,
        List<PathStep> path, Measured measured) {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** Validates every field; messages name the policy-file key. */
    public Certificate {
        Task.parse(task);
        text("loss", loss);
        open01("delta", delta);
        open01("epsilon", epsilon);
        if (n < 1) {
            throw new IllegalArgumentException("'n' must be at least 1, got " + n);
        }
        closed01("empirical_risk", empiricalRisk);
        closed01("p_value", pValue);
        text("p_value_method", pValueMethod);
        text("fwer_method", fwerMethod);
        Objects.requireNonNull(data, "'data' is required");
        sha("model_sha256", modelSha256);
        Objects.requireNonNull(grid, "'grid' is required");
        path = List.copyOf(Objects.requireNonNull(path, "'path' is required"));
        Objects.requireNonNull(measured, "'measured' is required");
        if (data.testExamples() != n) {
            throw new IllegalArgumentException("'n' (" + n + ") must equal 'data.test_examples' (" + data.testExamples() + ")");
        }
    }

    /**
     * The calibration examples.
     *
     * @param split        the data split they were drawn from, e.g. {@code validation}
     * @param seed         the seed that drew them and split them in two
     * @param examples     how many were drawn
     * @param pathExamples how many chose the path (part 1)
     * @param testExamples how many the tests ran on (part 2, disjoint from part 1)
     * @param sha256       SHA-256 of the examples (their inputs and indices), 64 hex digits
     */
    public record Data(String split, long seed, int examples, int pathExamples, int testExamples, String sha256) {
        /** Validates the sizes and the hash. */
        public Data {
            text("data.split", split);
            if (pathExamples < 1 || testExamples < 1 || pathExamples + testExamples != examples) {
                throw new IllegalArgumentException("'data.path_examples' (" + pathExamples + ") and 'data.test_examples' ("
                        + testExamples + ") must be positive and add up to 'data.examples' (" + examples + ")");
            }
            sha("data.sha256", sha256);
        }
    }

    /**
     * The candidate grid: every combination of the three threshold lists (image, text, decoder),
     * the decoder threshold turned into a per-step one by {@code decoderSchedule}.
     *
     * @param image           image-stream thresholds
     * @param text            text-stream thresholds
     * @param decoder         decoder thresholds theta
     * @param decoderSchedule the schedule family, e.g. {@code fixed} or {@code decay(beta 0.95, tau 1)}
     */
    public record Grid(List<Double> image, List<Double> text, List<Double> decoder, String decoderSchedule) {
        /** Validates that every list is non-empty and every threshold in [-1, 1]. */
        public Grid {
            image = thresholds("grid.image", image);
            text = thresholds("grid.text", text);
            decoder = thresholds("grid.decoder", decoder);
            Certificate.text("grid.decoder_schedule", decoderSchedule);
        }

        /** Number of candidates. */
        public int size() {
            return image.size() * text.size() * decoder.size();
        }

        private static List<Double> thresholds(String key, List<Double> v) {
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException("'" + key + "' must be a non-empty list of thresholds");
            }
            for (Double t : v) {
                if (t == null || !(t >= -1 && t <= 1)) {
                    throw new IllegalArgumentException("'" + key + "' thresholds must be in [-1, 1], got " + t);
                }
            }
            return List.copyOf(v);
        }
    }

    /**
     * One candidate on the tested path.
     *
     * @param image    image-stream threshold
     * @param text     text-stream threshold
     * @param decoder  decoder threshold theta
     * @param pathRisk its mean loss on part 1 (which ordered the path)
     * @param testRisk its mean loss on part 2, or null when testing had stopped before it
     * @param pValue   its p-value on part 2, or null when not tested
     * @param accepted whether "risk > delta" was rejected for it (it is certified)
     */
    public record PathStep(double image, double text, double decoder, double pathRisk, Double testRisk, Double pValue,
            boolean accepted) {
        /** Validates the ranges; an accepted step must have been tested. */
        public PathStep {
            ExitPolicy.checkThreshold("path image", image);
            ExitPolicy.checkThreshold("path text", text);
            ExitPolicy.checkThreshold("path decoder", decoder);
            closed01("path.path_risk", pathRisk);
            if ((testRisk == null) != (pValue == null)) {
                throw new IllegalArgumentException("'path.test_risk' and 'path.p_value' must both be set or both be null");
            }
            if (testRisk != null) {
                closed01("path.test_risk", testRisk);
                closed01("path.p_value", pValue);
            } else if (accepted) {
                throw new IllegalArgumentException("'path.accepted' is true for a step that was not tested");
            }
        }
    }

    /**
     * The saving measured at the chosen point on the test part, against the full model in the
     * same run (timed round-robin, fastest pass of {@code repeats}).
     *
     * @param layerReduction the paper's expected reduction (layer count), averaged over examples
     * @param flopReduction  the FLOP-weighted expected reduction
     * @param timeReduction  {@code 1 - seconds / full seconds}, measured
     * @param fullSeconds    wall-clock seconds of the full model over the examples
     * @param policySeconds  wall-clock seconds of the policy over the same examples
     * @param backend        the backend that ran them
     * @param repeats        timed passes per row
     */
    public record Measured(double layerReduction, double flopReduction, double timeReduction, double fullSeconds,
            double policySeconds, String backend, int repeats) {
        /** Validates the ranges. */
        public Measured {
            if (!(layerReduction >= 0 && layerReduction <= 1) || !(flopReduction >= -1 && flopReduction <= 1)) {
                throw new IllegalArgumentException("'measured.layer_reduction' must be in [0, 1] and 'measured.flop_reduction' in [-1, 1]");
            }
            if (!(timeReduction < 1) || Double.isNaN(timeReduction) || !(fullSeconds > 0) || !(policySeconds > 0)
                    || Double.isInfinite(fullSeconds) || Double.isInfinite(policySeconds)) {
                throw new IllegalArgumentException("'measured' times must be positive and finite, 'time_reduction' below 1");
            }
            text("measured.backend", backend);
            if (repeats < 1) {
                throw new IllegalArgumentException("'measured.repeats' must be at least 1, got " + repeats);
            }
        }
    }

    /** A number without trailing zeros: 0.02, 1, 0.995. */
    static String number(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    private static void text(String key, String v) {
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("'" + key + "' must be a non-empty string");
        }
    }

    private static void open01(String key, double v) {
        if (!(v > 0 && v < 1)) {
            throw new IllegalArgumentException("'" + key + "' must be in (0, 1), got " + v);
        }
    }

    private static void closed01(String key, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException("'" + key + "' must be in [0, 1], got " + v);
        }
    }

    private static void sha(String key, String v) {
        if (v == null || !SHA256.matcher(v).matches()) {
            throw new IllegalArgumentException("'" + key + "' must be 64 lowercase hex digits (SHA-256)");
        }
    }
}
