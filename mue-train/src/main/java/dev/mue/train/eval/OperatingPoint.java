package dev.mue.train.eval;

import dev.mue.api.model.Model;
import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import java.util.ArrayList;
import java.util.List;

/**
 * One row of a sweep: a label, the exit policy, and optionally another model (the ablation
 * trained without the layer-wise loss).
 *
 * @param label  what the row is, e.g. {@code MuE img>0.9 txt>0.95 dec>0.99}
 * @param policy the exit policy
 * @param model  the model to run, or null for the sweep's model
 */
public record OperatingPoint(String label, ExitPolicy policy, Model model) {

    /** The full model: every threshold 1.0. */
    public static OperatingPoint full() {
        return new OperatingPoint("full model", ExitPolicy.full(), null);
    }

    /**
     * The default sweep of a task: the full model; MuE at operating points from conservative to
     * aggressive; and the joint-encoder ("w/o decomposition") variant at the middle point.
     *
     * @param task {@code ve} or {@code caption}
     */
    public static List<OperatingPoint> sweep(String task) {
        List<OperatingPoint> out = new ArrayList<>();
        out.add(full());
        double[][] points = task.equals("ve")
                // VE needs the text stream more than the image stream (paper Table 2)
                ? new double[][] {{0.95, 0.99, 0.99}, {0.90, 0.97, 0.95}, {0.80, 0.95, 0.90}, {0.70, 0.90, 0.80}}
                // captioning needs the image stream; the decoder decays as in the paper
                : new double[][] {{0.99, 0.95, 0.99}, {0.97, 0.90, 0.97}, {0.95, 0.85, 0.95}, {0.90, 0.80, 0.90}};
        for (double[] p : points) {
            out.add(mue(task, p[0], p[1], p[2], EncoderMode.DECOMPOSED));
        }
        double[] mid = points[points.length / 2];
        out.add(mue(task, mid[0], mid[1], mid[2], EncoderMode.JOINT));
        return out;
    }

    /** A MuE row with the given image, text (or joint) and decoder thresholds. */
    public static OperatingPoint mue(String task, double image, double text, double decoder, EncoderMode mode) {
        DecoderSchedule s = task.equals("ve") ? new DecoderSchedule.Fixed(decoder)
                : new DecoderSchedule.Decay(decoder, 0.95, 1.0);
        ExitPolicy p = ExitPolicy.builder().imageThreshold(image).textThreshold(text)
                .jointThreshold(Math.min(image, text)).decoderSchedule(s).encoderMode(mode).build();
        String label = mode == EncoderMode.JOINT
                ? String.format(java.util.Locale.ROOT, "w/o decomposition (joint>%.2f, dec %s)", Math.min(image, text), s.describe())
                : String.format(java.util.Locale.ROOT, "MuE (img>%.2f, txt>%.2f, dec %s)", image, text, s.describe());
        return new OperatingPoint(label, p, null);
    }
}
