package dev.mue.api.spi;

import dev.mue.api.plan.Plan;
import java.util.List;
import java.util.Optional;

/**
 * A plan prepared on a backend: runs the encoder with per-example, per-stream exits, and the
 * decoder either step by step ({@link #decoder}) or once over whole sequences ({@link #score}).
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
     * to that example's encoder output.
     */
    DecoderStepper decoder(EncodedBatch encoded, int[] exampleOfRow);

    /**
     * Runs the decoder once, causally, over whole sequences; the exit gate makes one decision per
     * example over all that example's rows and positions, against a fixed {@code threshold}.
     *
     * @param encoded       the encoder output
     * @param exampleOfRow  per row, its example
     * @param sequences     per row, the decoder input (bos first)
     * @param firstScored   per row, the first position whose logits are returned
     * @param threshold     the decoder threshold
     */
    ScoringOutput score(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences, int[] firstScored,
            double threshold);

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

    /** Releases what {@link Backend#prepare} allocated. */
    @Override
    void close();
}
