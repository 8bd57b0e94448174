package dev.mue.api;

/**
 * A generated text (a caption, or the answer to a prompt) with its exit trace.
 *
 * @param text   the decoded text
 * @param tokens the generated dictionary ids, eos excluded
 * @param score  the beam's length-normalised log-probability
 * @param trace  every exit decision
 */
public record GenerationResult(String text, int[] tokens, double score, ExitTrace trace) {
    /** Copies the token array. */
    public GenerationResult {
        tokens = tokens.clone();
    }

    /** A copy of the token ids. */
    @Override
    public int[] tokens() {
        return tokens.clone();
    }
}
