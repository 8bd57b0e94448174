package dev.mue.backend.torch;

import ai.djl.ndarray.NDArray;

/**
 * The PyTorch backend's states: segments padded into one tensor {@code [B, W, d]}, segment
 * {@code i} being the first {@code lengths[i]} positions of row {@code i}. The host copy is taken
 * once, on the first gate that needs it.
 */
final class PtStates {
    final NDArray x;
    final int[] lengths;
    private float[] host;

    PtStates(NDArray x, int[] lengths) {
        this.x = x;
        this.lengths = lengths;
    }

    int segments() {
        return lengths.length;
    }

    /** The padded width W. */
    int width() {
        return (int) x.getShape().get(1);
    }

    /** The values on the host, row-major {@code [B, W, d]}. */
    float[] host() {
        if (host == null) {
            host = x.toFloatArray();
        }
        return host;
    }
}
