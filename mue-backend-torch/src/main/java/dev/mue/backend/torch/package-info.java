/**
 * The PyTorch backend: weights uploaded once per executable into an owned {@code NDManager},
 * forward passes as pure functions over {@code NDArray} (so the same code runs under autograd),
 * per-example exits decided on the host in double precision, and per-request native memory
 * scoped by child managers.
 */
package dev.mue.backend.torch;
