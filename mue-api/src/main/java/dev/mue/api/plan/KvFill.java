package dev.mue.api.plan;

/**
 * What one skipped decoder layer keeps for the position of a token that exited earlier (design
 * §4's KV policy, turned into actions once by {@link Plan#kvFillAfterExit}); {@code OMIT} leaves
 * no action. Layers are 1-based.
 */
public sealed interface KvFill {

    /** The layer that gets an entry. */
    int layer();

    /**
     * {@code PROPAGATE} (CALM): the layer computes its own key and value for the position from the
     * exit hidden state, through its self-attention LayerNorm and key/value projections.
     *
     * @param layer the skipped layer
     */
    record Propagate(int layer) implements KvFill {
    }

    /**
     * {@code COPY}: the layer reuses the key and value that the exit layer stored for the position.
     *
     * @param layer     the skipped layer
     * @param fromLayer the exit layer, whose entry is copied
     */
    record Copy(int layer, int fromLayer) implements KvFill {
    }
}
