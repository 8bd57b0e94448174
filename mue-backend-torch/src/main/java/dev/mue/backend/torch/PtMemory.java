package dev.mue.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * The PyTorch backend's encoder memory: the encoder output {@code [B, N, d]} (each example padded
 * after its own tokens) with its additive padding mask, and per example and decoder layer the
 * cross-attention keys and values {@code [1, N, d]} the runtime asked for; all owned by the manager
 * of the encoded batch's workspace.
 */
final class PtMemory {
    final NDManager manager;
    final NDArray output;
    /** {@code [B, 1, 1, N]}, 0 or -inf; null when no example is padded. */
    final NDArray mask;
    final int[] tokens;
    final NDArray[][] crossK;
    final NDArray[][] crossV;

    PtMemory(NDManager manager, NDArray output, NDArray mask, int[] tokens, int decoderLayers) {
        this.manager = manager;
        this.output = output;
        this.mask = mask;
        this.tokens = tokens;
        this.crossK = new NDArray[tokens.length][decoderLayers + 1];
        this.crossV = new NDArray[tokens.length][decoderLayers + 1];
    }

    /** Padded width N. */
    long width() {
        return output.getShape().get(1);
    }
}
