package dev.mue.train.eval;

import dev.mue.api.model.Model;
import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
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
     * The default sweep of a task: the full model; MuE at four operating points, chosen on the
     * validation split for the shipped model (two with decoder exits only, one where the encoder
     * streams exit as well, and the paper's appendix A thresholds); the joint-encoder ("w/o
     * decomposition") variant at the third point; for captioning, the second point again with
     * the {@code omit} KV policy (the reference code's behaviour).
     *
     * <p>A threshold of 1 means the stream never exits (a cosine similarity is never above 1).
     *
     * @param task {@code ve} or {@code caption}
     */
    public static List<OperatingPoint> sweep(String task) {
        List<OperatingPoint> out = new ArrayList<>();
        out.add(full());
        double[][] points = task.equals("ve")
                // VE: the decoder's single scoring pass tolerates early exits; the image stream least
                ? new double[][] {{1, 1, 0.95}, {1, 1, 0.85}, {0.99, 0.98, 0.90}, {0.90, 0.95, 0.99}}
                // captioning: the decoder threshold decays per token as in the paper
                : new double[][] {{1, 1, 0.99}, {1, 1, 0.95}, {0.99, 0.95, 0.95}, {0.90, 0.95, 0.99}};
        for (double[] p : points) {
            out.add(mue(task, p[0], p[1], p[2], EncoderMode.DECOMPOSED));
        }
        double[] third = points[2];
        out.add(mue(task, third[0], third[1], third[2], EncoderMode.JOINT));
        if (task.equals("caption")) {
            OperatingPoint second = out.get(2);
            String label = second.label();
            out.add(new OperatingPoint(label.substring(0, label.length() - 1) + ", kv omit)",
                    second.policy().toBuilder().kvPolicy(KvPolicy.OMIT).build(), null));
        }
        return out;
    }

    /** A MuE row with the given image, text (or joint) and decoder thresholds. */
    public static OperatingPoint mue(String task, double image, double text, double decoder, EncoderMode mode) {
        DecoderSchedule s = task.equals("ve") ? new DecoderSchedule.Fixed(decoder)
                : new DecoderSchedule.Decay(decoder, 0.95, 1.0);
        ExitPolicy p = ExitPolicy.builder().imageThreshold(image).textThreshold(text)
                .jointThreshold(Math.min(image, text)).decoderSchedule(s).encoderMode(mode).build();
        String label = mode == EncoderMode.JOINT
                ? "w/o decomposition (joint>" + number(Math.min(image, text)) + ", dec " + s.describe() + ")"
                : "MuE (img>" + number(image) + ", txt>" + number(text) + ", dec " + s.describe() + ")";
        return new OperatingPoint(label, p, null);
    }

    /** A threshold without trailing zeros: 1, 0.9, 0.995. */
    static String number(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
}
