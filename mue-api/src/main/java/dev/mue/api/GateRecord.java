package dev.mue.api;

import dev.mue.api.plan.Stream;

/**
 * One evaluated exit gate: after {@code layer} (1-based) of {@code stream}, the similarity that was
 * measured, the threshold it was compared with, and whether the stream exited there.
 *
 * @param stream     which stream
 * @param layer      the layer just run, 1-based
 * @param similarity cosine between the layer's output and input over the example's real tokens
 * @param threshold  the threshold in force (the decoder's depends on the step)
 * @param exit       whether {@code similarity > threshold} and the gate was enabled
 */
public record GateRecord(Stream stream, int layer, double similarity, double threshold, boolean exit) {
}
