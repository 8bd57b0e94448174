package dev.mue.api.plan;

/** A sequence that runs through a stack of layers and exits on its own. */
public enum Stream {
    /** Image tokens in the decomposed encoder. */
    IMAGE,
    /** Text tokens in the decomposed encoder. */
    TEXT,
    /** [image ; text] in the joint encoder. */
    JOINT,
    /** One decoding step (or the visual-entailment scoring pass) in the decoder. */
    DECODER;

    /** Lower-case name used in labels and traces. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
