package dev.mue.runtime;

import dev.mue.api.GateRecord;
import dev.mue.api.exit.ExitCriteria;
import dev.mue.api.exit.ExitCriterion;
import dev.mue.api.exit.GateMeasure;
import dev.mue.api.exit.GateMeasures;
import dev.mue.api.layer.LayerOps;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanNode;
import java.util.HashMap;
import java.util.Map;

/**
 * Evaluates exit gate nodes: asks the backend for the measures the gate's criterion needs, turns
 * them into scores and decides ({@link PlanNode.ExitGate#exits}). The only place outside the
 * tf compiler and the TCK's reference where a gate is decided.
 */
final class Gates {
    private final Map<Integer, ExitCriterion> criteria = new HashMap<>();

    Gates(Plan plan) {
        for (PlanNode n : plan.nodes()) {
            if (n instanceof PlanNode.ExitGate g) {
                criteria.put(g.id(), ExitCriteria.require(g.criterion(), g.stream()));
            }
        }
    }

    /** The outcome of one gate for every member of the part that reached it. */
    record Outcome(boolean[] exit, GateRecord[] records) {
        int exits() {
            int n = 0;
            for (boolean b : exit) {
                n += b ? 1 : 0;
            }
            return n;
        }
    }

    <X> Outcome evaluate(LayerOps<X, ?, ?> ops, PlanNode.ExitGate gate, Part<X> out, Part<X> in, double threshold) {
        ExitCriterion c = criteria.get(gate.id());
        int[] ends = out.groupEnds();
        int n = out.size();
        double[] cos = null;
        double[] top = null;
        for (GateMeasure m : c.measures()) {
            double[] v = ops.measure(m, out.x(), in.x(), ends);
            if (v.length != n) {
                throw new IllegalStateException("backend measured " + v.length + " gate groups, expected " + n);
            }
            switch (m) {
                case COSINE -> cos = v;
                case TOP_PROBABILITY -> top = v;
            }
        }
        boolean[] exit = new boolean[n];
        GateRecord[] records = new GateRecord[n];
        for (int i = 0; i < n; i++) {
            double score = c.score(new GateMeasures(cos == null ? Double.NaN : cos[i], top == null ? Double.NaN : top[i]));
            exit[i] = gate.exits(score, threshold);
            records[i] = new GateRecord(gate.stream(), gate.layer(), score, threshold, exit[i]);
        }
        return new Outcome(exit, records);
    }
}
