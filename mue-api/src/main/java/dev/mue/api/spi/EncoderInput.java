package dev.mue.api.spi;

import dev.mue.api.InvalidInputException;

/**
 * One example's encoder input.
 *
 * @param image  the preprocessed image, CHW float32 {@code [3, S, S]}
 * @param tokens the text's dictionary ids, bos and eos included, no padding
 */
public record EncoderInput(float[] image, int[] tokens) {
    /** Checks that both parts are present. */
    public EncoderInput {
        if (image == null || image.length == 0) {
            throw new InvalidInputException("encoder input needs an image");
        }
        if (tokens == null || tokens.length == 0) {
            throw new InvalidInputException("encoder input needs at least one text token");
        }
    }
}
