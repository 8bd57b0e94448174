package dev.mue.backend.tf;

import dev.mue.api.InvalidInputException;
import dev.mue.api.plan.Plan;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.RequestChecks;
import java.util.List;

/**
 * Input validation shared by the graph and eager executables, on the host before any tensor is
 * made: the API's {@link RequestChecks} (the same exceptions and messages as every backend), plus
 * the decoding step's own checks, worded as the Java backend words them.
 */
final class TfChecks {
    private TfChecks() {
    }

    static void encode(Plan plan, List<EncoderInput> batch) {
        RequestChecks.encoderBatch(plan, batch);
    }

    static void rows(int examples, int[] exampleOfRow) {
        RequestChecks.rows(examples, exampleOfRow);
    }

    static void step(Plan plan, int rows, int[] tokens, int[] positions) {
        if (tokens.length != rows) {
            throw new InvalidInputException("step got " + tokens.length + " tokens for " + rows + " rows");
        }
        int max = plan.shapes().maxDecoderTokens();
        for (int p : positions) {
            if (p >= max) {
                throw new InvalidInputException("decoding past the plan's " + max + " decoder positions");
            }
        }
        RequestChecks.tokens(plan, tokens, "decoder ");
    }

    static void score(Plan plan, int examples, int[] exampleOfRow, int[][] sequences, int[] firstScored) {
        RequestChecks.scoring(plan, examples, exampleOfRow, sequences, firstScored);
    }
}
