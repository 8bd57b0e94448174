package dev.mue.session.decode;

/**
 * Beam search settings, fairseq's semantics (design §4): length-normalised scores, pad never
 * chosen, eos not allowed as the first token and forced after {@code maxLength} tokens.
 *
 * <p>Whether bos may be generated is a choice ({@link #banBos}): OFA's sequence generator masks
 * only pad, so an imported OFA model may emit bos; mue's own bundles were decoded with bos banned
 * at every step. {@code Mue.session()} takes the rule from the model's conventions unless the
 * caller sets decoding options of its own.
 *
 * @param beamSize       hypotheses kept per example; 1 is greedy
 * @param maxLength      most tokens generated before eos is forced (OFA captioning: 16)
 * @param noRepeatNgram  forbid repeating any n-gram of this size; 0 disables
 * @param lengthPenalty  finished scores are divided by {@code length^lengthPenalty}
 * @param banBos         never generate bos (mue's bundles); false: only pad is masked (OFA)
 */
public record DecodingOptions(int beamSize, int maxLength, int noRepeatNgram, double lengthPenalty, boolean banBos) {

    /** Settings that ban bos, as mue's bundles were decoded. */
    public DecodingOptions(int beamSize, int maxLength, int noRepeatNgram, double lengthPenalty) {
        this(beamSize, maxLength, noRepeatNgram, lengthPenalty, true);
    }

    /** Validates the settings. */
    public DecodingOptions {
        if (beamSize < 1 || beamSize > 64) {
            throw new IllegalArgumentException("beam size must be in 1..64, got " + beamSize);
        }
        if (maxLength < 1) {
            throw new IllegalArgumentException("max length must be at least 1, got " + maxLength);
        }
        if (noRepeatNgram < 0) {
            throw new IllegalArgumentException("no-repeat-ngram must be >= 0, got " + noRepeatNgram);
        }
        if (!Double.isFinite(lengthPenalty)) {
            throw new IllegalArgumentException("length penalty must be finite");
        }
    }

    /** OFA's captioning settings: beam 5, 16 tokens, no-repeat-ngram 3, length penalty 1. */
    public static DecodingOptions captioning() {
        return new DecodingOptions(5, 16, 3, 1.0);
    }

    /**
     * OFA's captioning settings with the bos rule of a model's conventions: what a session
     * decodes with unless told otherwise.
     */
    public static DecodingOptions captioning(dev.mue.api.model.ModelConfig config) {
        return captioning().withBanBos(config.conventions().banBosInGeneration());
    }

    /** The same settings with another beam size. */
    public DecodingOptions withBeamSize(int beam) {
        return new DecodingOptions(beam, maxLength, noRepeatNgram, lengthPenalty, banBos);
    }

    /** The same settings with another maximum length. */
    public DecodingOptions withMaxLength(int len) {
        return new DecodingOptions(beamSize, len, noRepeatNgram, lengthPenalty, banBos);
    }

    /** The same settings with the bos rule {@code ban}. */
    public DecodingOptions withBanBos(boolean ban) {
        return new DecodingOptions(beamSize, maxLength, noRepeatNgram, lengthPenalty, ban);
    }
}
