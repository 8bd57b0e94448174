package dev.mue.train.calibrate;

import dev.mue.api.policy.Certificate;
import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.Task;
import java.util.ArrayList;
import java.util.List;

/**
 * The candidate thresholds of a calibration or a Pareto sweep: every combination of an image, a
 * text and a decoder threshold, except the one that is the full model (all 1: nothing exits, so it
 * certifies nothing worth having). Captioning's decoder threshold is the theta of the paper's decay
 * schedule (beta 0.95, tau 1); entailment's single scoring pass uses it as a fixed threshold.
 *
 * @param image   image-stream thresholds
 * @param text    text-stream thresholds
 * @param decoder decoder thresholds
 */
public record CandidateGrid(List<Double> image, List<Double> text, List<Double> decoder) {
    /** The default grid's image and text thresholds, as {@code --grid-image} and {@code --grid-text} take them. */
    public static final String DEFAULT_ENCODER = "1,0.995,0.99,0.98,0.95";
    /** The default grid's decoder thresholds for VE (a fixed threshold). */
    public static final String DEFAULT_VE_DECODER = "1,0.99,0.98,0.97,0.95,0.9,0.85,0.8";
    /** The default grid's decoder thresholds for captioning (theta of the decay schedule). */
    public static final String DEFAULT_CAPTION_DECODER = "1,0.99,0.98,0.96,0.95,0.9,0.85";

    /** The paper's decay parameters, which captioning candidates use. */
    public static final double DECAY_BETA = 0.95;
    /** The paper's decay parameter tau. */
    public static final double DECAY_TAU = 1.0;

    /**
     * Validates the thresholds: each list non-empty, in [-1, 1], without repeats, and at least one
     * candidate besides the full model.
     */
    public CandidateGrid {
        new Certificate.Grid(image, text, decoder, "check");
        image = distinct("grid.image", image);
        text = distinct("grid.text", text);
        decoder = distinct("grid.decoder", decoder);
        if (image.stream().allMatch(t -> t >= 1) && text.stream().allMatch(t -> t >= 1)
                && decoder.stream().allMatch(t -> t >= 1)) {
            throw new IllegalArgumentException("the grid holds only the full model (every threshold 1): nothing to choose from");
        }
    }

    private static List<Double> distinct(String key, List<Double> v) {
        List<Double> out = List.copyOf(v);
        if (new java.util.HashSet<>(out).size() != out.size()) {
            throw new IllegalArgumentException("'" + key + "' repeats a threshold: " + out);
        }
        return out;
    }

    /**
     * The default grid of a task, from 1 (never exit) down to where the shipped model's validation
     * front (README, "Calibrated exits") lies: that model was trained for encoder exits ({@code mue
     * train --encoder-exit-rate}), so its image and text streams can stop at 0.98 to 0.95 and its
     * decoder at 0.9 to 0.8 with little loss; the steps near 1 are fine because that is where a
     * model trained at full depth (the paper's recipe) starts to change its outputs, and a coarse
     * step there stops fixed-sequence testing early. 5 x 5 x 8 - 1 = 199 candidates for VE (fixed
     * decoder threshold), 5 x 5 x 7 - 1 = 174 for captioning (the paper's decay schedule).
     */
    public static CandidateGrid defaults(Task task) {
        List<Double> encoder = thresholds(DEFAULT_ENCODER);
        return new CandidateGrid(encoder, encoder,
                thresholds(task == Task.ENTAIL ? DEFAULT_VE_DECODER : DEFAULT_CAPTION_DECODER));
    }

    private static List<Double> thresholds(String commaSeparated) {
        return java.util.Arrays.stream(commaSeparated.split(",")).map(Double::valueOf).toList();
    }

    /** The decoder schedule of theta for {@code task}. */
    public static DecoderSchedule schedule(Task task, double theta) {
        return task == Task.ENTAIL ? new DecoderSchedule.Fixed(theta) : new DecoderSchedule.Decay(theta, DECAY_BETA, DECAY_TAU);
    }

    /** The schedule family in words, as the certificate records it. */
    public static String scheduleName(Task task) {
        return task == Task.ENTAIL ? "fixed" : "decay(beta " + DECAY_BETA + ", tau " + DECAY_TAU + ")";
    }

    /** One candidate: its thresholds. */
    public record Point(double image, double text, double decoder) {
        /** The exit policy of this point for {@code task} (decomposed encoder, KV propagate). */
        public ExitPolicy policy(Task task) {
            return ExitPolicy.builder().imageThreshold(image).textThreshold(text).jointThreshold(Math.min(image, text))
                    .decoderSchedule(schedule(task, decoder)).build();
        }
    }

    /** Every candidate, image outermost and decoder innermost, the full model left out. */
    public List<Point> points() {
        List<Point> out = new ArrayList<>();
        for (double i : image) {
            for (double t : text) {
                for (double d : decoder) {
                    if (!(i >= 1 && t >= 1 && d >= 1)) {
                        out.add(new Point(i, t, d));
                    }
                }
            }
        }
        return out;
    }

    /** The grid as the certificate records it. */
    public Certificate.Grid record(Task task) {
        return new Certificate.Grid(image, text, decoder, scheduleName(task));
    }
}
