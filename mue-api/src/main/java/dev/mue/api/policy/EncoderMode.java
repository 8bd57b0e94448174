package dev.mue.api.policy;

/** How the encoder treats the image and text streams. */
public enum EncoderMode {
    /** MuE: image and text run separately through the shared layers, each with its own exit. The default. */
    DECOMPOSED,
    /** Vanilla OFA (the paper's "w/o decomposition"): [image ; text] attend jointly, one exit. */
    JOINT
}
