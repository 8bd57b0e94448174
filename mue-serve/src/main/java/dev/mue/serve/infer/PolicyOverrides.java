package dev.mue.serve.infer;

import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.serve.protocol.RequestException;
import java.util.List;
import java.util.Map;

/**
 * What a request may change of the exit policy, and within which bounds: only the thresholds
 * ({@code image_threshold}, {@code text_threshold}, {@code encoder_threshold} for a joint encoder or
 * both streams at once, {@code decoder_threshold}: the theta of the server's schedule), each in
 * [{@code minThreshold}, 1]. The schedule's kind, the KV policy and the encoder mode stay the
 * server's: they change what a plan is, not how far it runs. A threshold of 1 never exits, so a
 * request can always ask for the full model; {@code minThreshold} keeps it from asking for exits
 * so early that answers lose their meaning.
 */
public final class PolicyOverrides {
    /** Request parameter: image stream threshold (decomposed encoder). */
    public static final String IMAGE = "image_threshold";
    /** Request parameter: text stream threshold (decomposed encoder). */
    public static final String TEXT = "text_threshold";
    /** Request parameter: the joint encoder's threshold, or both streams' at once. */
    public static final String ENCODER = "encoder_threshold";
    /** Request parameter: the decoder threshold theta (the server's schedule kind is kept). */
    public static final String DECODER = "decoder_threshold";
    /** The policy fields a request may set. */
    public static final List<String> FIELDS = List.of(IMAGE, TEXT, ENCODER, DECODER);

    private final boolean allowed;
    private final double minThreshold;

    /**
     * @param allowed      whether requests may override the policy at all
     * @param minThreshold the lowest threshold a request may set, in [-1, 1]
     */
    public PolicyOverrides(boolean allowed, double minThreshold) {
        if (!(minThreshold >= -1 && minThreshold <= 1)) {
            throw new IllegalArgumentException("minimum threshold must be in [-1, 1], got " + minThreshold);
        }
        this.allowed = allowed;
        this.minThreshold = minThreshold;
    }

    /** Whether requests may override the policy. */
    public boolean allowed() {
        return allowed;
    }

    /** The lowest threshold a request may set. */
    public double minThreshold() {
        return minThreshold;
    }

    /**
     * {@code base} with the request's threshold parameters applied.
     *
     * @throws RequestException if overrides are off, or a value is not a number within the bounds, or
     *                          names a stream the policy's encoder mode does not have
     */
    public ExitPolicy apply(ExitPolicy base, Map<String, Object> parameters) {
        Double image = threshold(parameters, IMAGE);
        Double text = threshold(parameters, TEXT);
        Double encoder = threshold(parameters, ENCODER);
        Double decoder = threshold(parameters, DECODER);
        if (image == null && text == null && encoder == null && decoder == null) {
            return base;
        }
        ExitPolicy.Builder b = base.toBuilder();
        if (encoder != null) {
            b.encoderThreshold(encoder);
        }
        if ((image != null || text != null) && base.encoderMode() == EncoderMode.JOINT) {
            throw new RequestException("parameters " + IMAGE + " and " + TEXT + " need the decomposed encoder; this model's"
                    + " policy runs the joint encoder (set " + ENCODER + ")");
        }
        if (image != null) {
            b.imageThreshold(image);
        }
        if (text != null) {
            b.textThreshold(text);
        }
        if (decoder != null) {
            b.decoderSchedule(switch (base.decoderSchedule()) {
                case DecoderSchedule.Fixed f -> new DecoderSchedule.Fixed(decoder);
                case DecoderSchedule.Decay d -> new DecoderSchedule.Decay(decoder, d.beta(), d.tau());
                case DecoderSchedule.ReferenceDecay r -> new DecoderSchedule.ReferenceDecay(decoder);
                // A theta over a per-step table replaces the table by that one threshold, as the CLI does.
                case DecoderSchedule.Table t -> new DecoderSchedule.Fixed(decoder);
            });
        }
        return b.build();
    }

    private Double threshold(Map<String, Object> parameters, String field) {
        Object v = parameters.get(field);
        if (v == null) {
            return null;
        }
        if (!allowed) {
            throw new RequestException("parameter '" + field + "': this server does not take policy overrides"
                    + " (started with --no-policy-override)");
        }
        if (!(v instanceof Number n)) {
            throw new RequestException("parameter '" + field + "' must be a number, got '" + v + "'");
        }
        double t = n.doubleValue();
        if (!(t >= minThreshold && t <= 1)) {
            throw new RequestException("parameter '" + field + "' " + t + " is outside this server's bounds ["
                    + minThreshold + ", 1] (--min-threshold)");
        }
        return t;
    }
}
