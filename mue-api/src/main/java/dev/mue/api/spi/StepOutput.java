package dev.mue.api.spi;

import dev.mue.api.GateRecord;
import java.util.List;

/**
 * The result of one decoding step for every live row.
 *
 * @param logits    per row, vocabulary logits {@code [V]} after the final LayerNorm and tied projection
 * @param exitLayer per row, the last decoder layer run (1-based)
 * @param gates     per row, the gates evaluated in layer order
 */
public record StepOutput(float[][] logits, int[] exitLayer, List<List<GateRecord>> gates) {
}
