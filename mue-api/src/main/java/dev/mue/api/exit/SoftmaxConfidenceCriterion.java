package dev.mue.api.exit;

import dev.mue.api.plan.Stream;
import java.util.Set;

/**
 * CALM's softmax-confidence criterion (Schuster et al., NeurIPS 2022) for decoder tokens: exit
 * when the most likely next token, read through the final decoder LayerNorm and the tied output
 * projection from the current layer's state, has a probability above the threshold. It needs the
 * vocabulary logits at every gate, so it costs a projection per evaluated gate; decoder gates only.
 */
public final class SoftmaxConfidenceCriterion implements ExitCriterion {
    /** Its id in policies. */
    public static final String ID = "calm";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String describe() {
        return "max softmax(head(ln(out)))";
    }

    @Override
    public boolean appliesTo(Stream stream) {
        return stream == Stream.DECODER;
    }

    @Override
    public Set<GateMeasure> measures() {
        return Set.of(GateMeasure.TOP_PROBABILITY);
    }

    @Override
    public double score(GateMeasures m) {
        return m.topProbability();
    }
}
