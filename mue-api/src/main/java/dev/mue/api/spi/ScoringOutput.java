package dev.mue.api.spi;

import dev.mue.api.GateRecord;
import java.util.List;

/**
 * The result of one non-incremental decoder pass over whole sequences (visual-entailment scoring).
 *
 * @param logits       per row, per scored position (from the row's first scored position to its
 *                     last), vocabulary logits {@code [V]}
 * @param exitLayer    per example, the last decoder layer run
 * @param gates        per example, the gates evaluated in layer order
 */
public record ScoringOutput(float[][][] logits, int[] exitLayer, List<List<GateRecord>> gates) {
}
