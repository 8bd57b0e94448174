package dev.mue.api.layer;

/**
 * A lifetime for backend tensors: what a {@link LayerOps} operation makes in a workspace stays
 * valid until the workspace (or a parent) is closed. The runtime opens one per encoded batch, per
 * decoder stepper and per call, and a child for each call's temporaries. A backend whose memory is
 * garbage-collected may ignore it.
 */
public interface Workspace extends AutoCloseable {

    /** A workspace closed no later than this one. */
    Workspace child();

    /** Releases every tensor made in this workspace and its children. */
    @Override
    void close();

    /** A workspace that holds nothing, for backends whose memory is garbage-collected. */
    static Workspace none() {
        return NoWorkspace.INSTANCE;
    }
}

/** The workspace of garbage-collected backends. */
enum NoWorkspace implements Workspace {
    INSTANCE;

    @Override
    public Workspace child() {
        return this;
    }

    @Override
    public void close() {
    }
}
