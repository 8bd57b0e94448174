package dev.mue.api.spi;

/**
 * Incremental decoding over a set of rows (beams of one or more examples), each with its own
 * key/value caches. Rows run independently: a row's result never depends on which other rows share
 * the call.
 */
public interface DecoderStepper extends AutoCloseable {

    /** Number of live rows. */
    int rows();

    /**
     * Feeds one token per row at the next position (position 0 is bos) and runs the decoder with
     * per-row exits at this step's threshold (the plan's schedule at this step).
     *
     * @param tokens one dictionary id per row
     */
    StepOutput step(int[] tokens);

    /**
     * Re-forms the rows: new row {@code r} continues old row {@code parents[r]}. Rows may be
     * duplicated (beams branching) or dropped (finished examples).
     */
    void reorder(int[] parents);

    /** Releases the caches. */
    @Override
    void close();
}
