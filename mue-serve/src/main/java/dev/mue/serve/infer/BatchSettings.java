package dev.mue.serve.infer;

/**
 * How a served model batches: at most {@code maxBatch} elements per batch, a batch waits at most
 * {@code maxDelayNanos} for more, at most {@code queueCapacity} elements wait, {@code workers}
 * batches run at once.
 */
public record BatchSettings(int maxBatch, long maxDelayNanos, int queueCapacity, int workers) {
}
