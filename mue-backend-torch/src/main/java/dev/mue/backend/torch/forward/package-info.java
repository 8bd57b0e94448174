/**
 * The forward code of the PyTorch backend as public, pure functions over DJL {@code NDArray}s
 * ({@link dev.mue.backend.torch.forward.PtOps}) and the model's parameters regrouped by layer
 * ({@link dev.mue.backend.torch.forward.PtParams}). The backend's executable runs them for
 * inference; {@code mue-train} runs the very same functions under autograd, so a trained model's
 * training-time forward is the backend's forward.
 */
package dev.mue.backend.torch.forward;
