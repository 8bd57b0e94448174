package dev.mue.api.policy;

import dev.mue.api.exit.CosineCriterion;
import dev.mue.api.exit.ExitCriteria;
import java.util.Locale;

/**
 * Where MuE may stop: thresholds for the image, text (or joint) encoder streams and the decoder,
 * plus the decoder schedule, the key/value policy and the encoder mode (design §4).
 *
 * <p>A stream exits after layer i when the cosine similarity between that layer's output and its
 * input is strictly greater than the threshold; 1.0 therefore never exits and -1 exits after the
 * first layer. Build one with {@link #builder()}; {@link #full()} runs every layer and
 * {@link #paper()} uses the paper's appendix A values.
 *
 * @param imageThreshold             image stream threshold (decomposed encoder)
 * @param textThreshold              text stream threshold (decomposed encoder)
 * @param jointThreshold             the single threshold of the joint encoder
 * @param decoderSchedule            decoder threshold per step
 * @param kvPolicy                   what skipped decoder layers keep for an exited token
 * @param encoderMode                decomposed (MuE) or joint (vanilla OFA) encoder
 * @param imageRelativeBiasInEncoder whether image tokens get the 2-D relative bias in the encoder;
 *                                   false reproduces the reference code, which drops it
 * @param minExitLayer               gates before this layer (1-based) never exit; 1 means none are held back
 * @param encoderCriterion           the test of the encoder streams' gates, an {@link
 *                                   dev.mue.api.exit.ExitCriterion} id ({@code cosine}: MuE's)
 * @param decoderCriterion           the test of the decoder's gates: {@code cosine} (MuE's) or
 *                                   {@code calm} (CALM's softmax confidence), or a plugged-in id
 */
public record ExitPolicy(double imageThreshold, double textThreshold, double jointThreshold,
        DecoderSchedule decoderSchedule, KvPolicy kvPolicy, EncoderMode encoderMode,
        boolean imageRelativeBiasInEncoder, int minExitLayer, String encoderCriterion, String decoderCriterion) {

    /**
     * Validates thresholds (finite, in [-1, 1]), the minimum layer and the criterion ids' form
     * (whether a criterion with that id exists is checked when a plan is compiled).
     */
    public ExitPolicy {
        checkThreshold("image", imageThreshold);
        checkThreshold("text", textThreshold);
        checkThreshold("joint", jointThreshold);
        if (decoderSchedule == null || kvPolicy == null || encoderMode == null) {
            throw new IllegalArgumentException("exit policy needs a decoder schedule, KV policy and encoder mode");
        }
        if (minExitLayer < 1) {
            throw new IllegalArgumentException("minExitLayer must be at least 1, got " + minExitLayer);
        }
        checkCriterion("encoder", encoderCriterion);
        checkCriterion("decoder", decoderCriterion);
    }

    private static void checkCriterion(String which, String id) {
        if (id == null || !ExitCriteria.ID.matcher(id).matches()) {
            throw new IllegalArgumentException(which + " exit criterion must be an id such as 'cosine' or 'calm', got "
                    + (id == null ? "none" : "'" + id + "'"));
        }
    }

    static void checkThreshold(String which, double t) {
        if (!(t >= -1 && t <= 1)) {
            throw new IllegalArgumentException(which + " threshold must be in [-1, 1] (cosine similarity), got " + t);
        }
    }

    /** Every layer runs: all thresholds 1.0. */
    public static ExitPolicy full() {
        return builder().build();
    }

    /**
     * The paper's appendix A values: image 0.90, text 0.95, decoder decay(0.99, 0.95, 1); joint 0.95.
     */
    public static ExitPolicy paper() {
        return builder().imageThreshold(0.90).textThreshold(0.95).jointThreshold(0.95)
                .decoderSchedule(new DecoderSchedule.Decay(0.99, 0.95, 1.0)).build();
    }

    /** A builder starting from {@link #full()}'s values. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this policy's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.image = imageThreshold;
        b.text = textThreshold;
        b.joint = jointThreshold;
        b.schedule = decoderSchedule;
        b.kv = kvPolicy;
        b.mode = encoderMode;
        b.imageRel = imageRelativeBiasInEncoder;
        b.minLayer = minExitLayer;
        b.encoderCriterion = encoderCriterion;
        b.decoderCriterion = decoderCriterion;
        return b;
    }

    /** One-line description for logs and traces. */
    public String describe() {
        String enc = encoderMode == EncoderMode.DECOMPOSED
                ? String.format(Locale.ROOT, "decomposed(image>%s, text>%s)", imageThreshold, textThreshold)
                : String.format(Locale.ROOT, "joint(>%s)", jointThreshold);
        return enc + ", decoder " + decoderSchedule.describe() + ", kv " + kvPolicy.name().toLowerCase(Locale.ROOT)
                + (imageRelativeBiasInEncoder ? "" : ", no image relative bias")
                + (minExitLayer > 1 ? ", min layer " + minExitLayer : "")
                + (encoderCriterion.equals(CosineCriterion.ID) ? "" : ", encoder criterion " + encoderCriterion)
                + (decoderCriterion.equals(CosineCriterion.ID) ? "" : ", decoder criterion " + decoderCriterion);
    }

    /** Mutable builder for {@link ExitPolicy}. */
    public static final class Builder {
        private double image = 1.0;
        private double text = 1.0;
        private double joint = 1.0;
        private DecoderSchedule schedule = new DecoderSchedule.Fixed(1.0);
        private KvPolicy kv = KvPolicy.PROPAGATE;
        private EncoderMode mode = EncoderMode.DECOMPOSED;
        private boolean imageRel = true;
        private int minLayer = 1;
        private String encoderCriterion = CosineCriterion.ID;
        private String decoderCriterion = CosineCriterion.ID;

        private Builder() {
        }

        /** Image stream threshold. */
        public Builder imageThreshold(double t) {
            image = t;
            return this;
        }

        /** Text stream threshold. */
        public Builder textThreshold(double t) {
            text = t;
            return this;
        }

        /** Joint encoder threshold. */
        public Builder jointThreshold(double t) {
            joint = t;
            return this;
        }

        /** Sets the image, text and joint thresholds at once. */
        public Builder encoderThreshold(double t) {
            image = t;
            text = t;
            joint = t;
            return this;
        }

        /** Decoder schedule. */
        public Builder decoderSchedule(DecoderSchedule s) {
            schedule = s;
            return this;
        }

        /** Fixed decoder threshold. */
        public Builder decoderThreshold(double t) {
            schedule = new DecoderSchedule.Fixed(t);
            return this;
        }

        /** Key/value policy for skipped decoder layers. */
        public Builder kvPolicy(KvPolicy p) {
            kv = p;
            return this;
        }

        /** Encoder mode. */
        public Builder encoderMode(EncoderMode m) {
            mode = m;
            return this;
        }

        /** Whether image tokens get the 2-D relative bias in the encoder. */
        public Builder imageRelativeBiasInEncoder(boolean b) {
            imageRel = b;
            return this;
        }

        /** Earliest layer (1-based) whose gate may exit. */
        public Builder minExitLayer(int layer) {
            minLayer = layer;
            return this;
        }

        /** The exit criterion of the encoder streams' gates (default {@code cosine}). */
        public Builder encoderCriterion(String id) {
            encoderCriterion = id;
            return this;
        }

        /** The exit criterion of the decoder's gates: {@code cosine} (default) or {@code calm}. */
        public Builder decoderCriterion(String id) {
            decoderCriterion = id;
            return this;
        }

        /** The validated policy. */
        public ExitPolicy build() {
            return new ExitPolicy(image, text, joint, schedule, kv, mode, imageRel, minLayer, encoderCriterion,
                    decoderCriterion);
        }
    }
}
