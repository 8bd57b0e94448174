package dev.mue.api.spi;

import dev.mue.api.InvalidInputException;
import dev.mue.api.plan.Plan;
import java.util.List;

/**
 * The input contract of {@link Executable}, checked the same way by every backend so that bad
 * input gets the same {@link InvalidInputException} and message whichever backend runs it.
 */
public final class RequestChecks {
    private RequestChecks() {
    }

    /**
     * Checks an encoder batch: at least one example, images of {@code 3 x S x S} values, texts
     * within the plan's limit, token ids inside the vocabulary.
     */
    public static void encoderBatch(Plan plan, List<EncoderInput> batch) {
        if (batch == null || batch.isEmpty()) {
            throw new InvalidInputException("encode needs at least one example");
        }
        int size = plan.config().imageSize();
        int expectedPixels = 3 * size * size;
        int maxText = plan.shapes().maxTextTokens();
        for (int i = 0; i < batch.size(); i++) {
            EncoderInput in = batch.get(i);
            if (in.image().length != expectedPixels) {
                throw new InvalidInputException("example " + i + ": image has " + in.image().length
                        + " values, expected 3x" + size + "x" + size + " = " + expectedPixels);
            }
            if (in.tokens().length > maxText) {
                throw new InvalidInputException("example " + i + ": text of " + in.tokens().length
                        + " tokens exceeds the plan's limit " + maxText);
            }
            tokens(plan, in.tokens(), "example " + i + ": ");
        }
    }

    /** Checks that every token id is inside the vocabulary; {@code context} prefixes the message. */
    public static void tokens(Plan plan, int[] tokens, String context) {
        int vocab = plan.config().vocabSize();
        for (int t : tokens) {
            if (t < 0 || t >= vocab) {
                throw new InvalidInputException(context + "token id " + t + " outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    /** Checks that every row refers to one of {@code examples} encoded examples. */
    public static void rows(int examples, int[] exampleOfRow) {
        for (int r = 0; r < exampleOfRow.length; r++) {
            if (exampleOfRow[r] < 0 || exampleOfRow[r] >= examples) {
                throw new InvalidInputException("row " + r + " refers to example " + exampleOfRow[r]
                        + " of a batch of " + examples);
            }
        }
    }

    /** Checks the arguments of {@link Executable#score}. */
    public static void scoring(Plan plan, int examples, int[] exampleOfRow, int[][] sequences, int[] firstScored) {
        int n = exampleOfRow.length;
        if (sequences.length != n || firstScored.length != n || n == 0) {
            throw new InvalidInputException("scoring needs one sequence and first position per row, got " + n
                    + " rows, " + sequences.length + " sequences, " + firstScored.length + " first positions");
        }
        rows(examples, exampleOfRow);
        int maxLen = plan.shapes().maxDecoderTokens();
        for (int r = 0; r < n; r++) {
            if (sequences[r].length == 0 || sequences[r].length > maxLen) {
                throw new InvalidInputException("row " + r + ": sequence of " + sequences[r].length
                        + " tokens, must be 1.." + maxLen);
            }
            if (firstScored[r] < 0 || firstScored[r] >= sequences[r].length) {
                throw new InvalidInputException("row " + r + ": first scored position " + firstScored[r]
                        + " outside its " + sequences[r].length + " tokens");
            }
            tokens(plan, sequences[r], "row " + r + ": ");
        }
    }
}
