package dev.mue.api.exit;

/**
 * A quantity a backend measures at an exit gate, per gate group (an example's stream in the
 * encoder, a row in a decoding step, an example's rows in a scoring pass).
 */
public enum GateMeasure {
    /**
     * The cosine similarity of the layer's output and its input, each flattened over the group's
     * real tokens (design §4).
     */
    COSINE,
    /**
     * The probability of the most likely token after the final decoder LayerNorm, the tied
     * projection and a softmax: the smallest over the group's positions (a scoring group exits only
     * when every position is confident). Decoder gates only.
     */
    TOP_PROBABILITY
}
