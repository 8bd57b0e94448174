package dev.mue.api.exit;

import dev.mue.api.plan.Stream;
import java.util.Set;

/**
 * MuE's criterion, the default of every stream: the cosine similarity of a layer's output and
 * its input (design §4); a layer that no longer changes the state much lets the stream stop.
 */
public final class CosineCriterion implements ExitCriterion {
    /** Its id in policies. */
    public static final String ID = "cosine";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String describe() {
        return "cos(out,in)";
    }

    @Override
    public boolean appliesTo(Stream stream) {
        return true;
    }

    @Override
    public Set<GateMeasure> measures() {
        return Set.of(GateMeasure.COSINE);
    }

    @Override
    public double score(GateMeasures m) {
        return m.cosine();
    }
}
