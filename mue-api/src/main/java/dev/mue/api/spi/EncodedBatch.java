package dev.mue.api.spi;

import dev.mue.api.EncoderExit;
import java.util.List;

/**
 * The encoder's output for a batch: backend-owned states plus, per example, where each stream exited.
 * Valid until closed or until its executable is closed.
 */
public interface EncodedBatch extends AutoCloseable {

    /** Number of examples. */
    int size();

    /** The exits of example {@code i}'s streams (image then text, or the joint stream). */
    List<EncoderExit> exits(int i);

    /** Encoder output tokens of example {@code i} ([image ; text], padding excluded). */
    int outputTokens(int i);

    /**
     * The encoder output of example {@code i} after the final encoder LayerNorm, row-major
     * {@code [outputTokens(i), d]}: for tests and cross-backend comparison.
     */
    float[] output(int i);

    /** Releases backend memory. */
    @Override
    void close();
}
