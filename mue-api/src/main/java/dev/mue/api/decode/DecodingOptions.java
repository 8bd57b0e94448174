package dev.mue.api.decode;

/**
 * Beam search settings, fairseq's semantics (design §4): length-normalised scores, pad and bos
 * never chosen, eos not allowed as the first token and forced after {@code maxLength} tokens.
 *
 * @param beamSize       hypotheses kept per example; 1 is greedy
 * @param maxLength      most tokens generated before eos is forced (OFA captioning: 16)
 * @param noRepeatNgram  forbid repeating any n-gram of this size; 0 disables
 * @param lengthPenalty  finished scores are divided by {@code length^lengthPenalty}
 */
public record DecodingOptions(int beamSize, int maxLength, int noRepeatNgram, double lengthPenalty) {

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

    /** The same settings with another beam size. */
    public DecodingOptions withBeamSize(int beam) {
        return new DecodingOptions(beam, maxLength, noRepeatNgram, lengthPenalty);
    }

    /** The same settings with another maximum length. */
    public DecodingOptions withMaxLength(int len) {
        return new DecodingOptions(beamSize, len, noRepeatNgram, lengthPenalty);
    }
}
