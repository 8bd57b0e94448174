package dev.mue.api.spi;

import dev.mue.api.plan.Plan;
import java.util.List;
import java.util.Optional;

/**
 * A plan ready to run: the encoder with per-example, per-stream exits, and the decoder either step
 * by step ({@link #decoder}) or once over whole sequences ({@link #score}). The runtime
 * ({@code dev.mue.runtime.Runtime.prepare}) makes one from what a backend prepared: it executes
 * the plan itself over an interpretive backend's layer operations, or checks requests in front of
 * a compiling backend's program. Every threshold comes from the plan (its gate nodes and the
 * policy's schedule), never from the caller.
 *
 * <p>Beam search, no-repeat-ngram and candidate scoring live above this interface
 * ({@code dev.mue.session.decode}), so every backend makes the same choices from the same logits.
 */
public interface Executable extends AutoCloseable {

    /** The plan this executes. */
    Plan plan();

    /**
     * Encodes a batch. Each stream of each example exits at its own layer; results equal those of
     * single-example calls.
     *
     * @throws dev.mue.api.InvalidInputException when an image has the wrong size or a text is too long
     */
    EncodedBatch encode(List<EncoderInput> batch);

    /**
     * Starts incremental decoding with one row per entry of {@code exampleOfRow}, each attending
     * to that example's encoder output. Step {@code t} (0-based) runs the decoder gates at the
     * schedule's threshold for step {@code t} of at most {@code horizon} generated tokens.
     *
     * @param horizon N of the decoder schedule (design §4): the most tokens the caller generates
     */
    DecoderStepper decoder(EncodedBatch encoded, int[] exampleOfRow, int horizon);

    /**
     * Runs the decoder once, causally, over whole sequences; the exit gate makes one decision per
     * example over all that example's rows and positions, against the schedule's static threshold.
     *
     * @param encoded       the encoder output
     * @param exampleOfRow  per row, its example
     * @param sequences     per row, the decoder input (bos first)
     * @param firstScored   per row, the first position whose logits are returned
     */
    ScoringOutput score(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences, int[] firstScored);

    /**
     * What this backend compiled from the plan, for {@code mue plan --backend ID}: e.g. the tf
     * backend's graph functions with the {@code If} op of every gate node and the layer ops each
     * branch holds. Empty (the default) for a backend that interprets the plan instead of compiling
     * it.
     *
     * @throws IllegalStateException when the executable is closed
     */
    default Optional<String> describeCompiled() {
        return Optional.empty();
    }

    /** Releases what was prepared for the plan. */
    @Override
    void close();
}
