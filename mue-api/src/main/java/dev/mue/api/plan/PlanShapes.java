package dev.mue.api.plan;

import dev.mue.api.model.ModelConfig;

/**
 * The largest inputs a plan is compiled for; position biases are folded to these sizes.
 *
 * @param maxTextTokens    longest encoder text, bos and eos included
 * @param maxDecoderTokens longest decoder input, bos included (a caption of N tokens needs N + 1;
 *                         a visual-entailment candidate needs bos + prompt + answer)
 */
public record PlanShapes(int maxTextTokens, int maxDecoderTokens) {

    /** Validates positive sizes. */
    public PlanShapes {
        if (maxTextTokens < 2 || maxDecoderTokens < 2) {
            throw new IllegalArgumentException("plan shapes need at least 2 text and decoder tokens, got "
                    + maxTextTokens + ", " + maxDecoderTokens);
        }
    }

    /** OFA's fine-tuning limits (80 source tokens), capped by the model's positions. */
    public static PlanShapes defaults(ModelConfig config) {
        int n = Math.min(config.maxPositions(), 80);
        return new PlanShapes(n, n);
    }
}
