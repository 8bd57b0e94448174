package dev.mue.backend.torch;

import ai.djl.ndarray.NDManager;
import dev.mue.api.layer.Workspace;

/** A workspace of the PyTorch backend: an {@link NDManager} that frees its tensors when closed. */
final class PtWorkspace implements Workspace {
    final NDManager manager;

    PtWorkspace(NDManager manager) {
        this.manager = manager;
    }

    static NDManager of(Workspace ws) {
        return ((PtWorkspace) ws).manager;
    }

    @Override
    public Workspace child() {
        return new PtWorkspace(manager.newSubManager());
    }

    @Override
    public void close() {
        manager.close();
    }
}
