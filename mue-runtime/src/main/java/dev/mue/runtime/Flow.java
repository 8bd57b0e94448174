package dev.mue.runtime;

import dev.mue.api.layer.LayerOps;
import dev.mue.api.layer.Workspace;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The states in flight during one walk of a plan stage: what has arrived at each node, along which
 * edge. Nodes are visited in id order, a topological order of every stage, so a node's arrivals are
 * complete when it is visited. Also the batch compaction and merging of parts, done with the
 * backend's gather.
 *
 * @param <X> the backend's state type
 */
final class Flow<X> {

    /** A part that arrived at a node from node {@code from}. */
    record Arrival<X>(int from, Part<X> part) {
    }

    private final Plan plan;
    private final LayerOps<X, ?, ?> ops;
    private final Workspace ws;
    private final Map<Integer, List<Arrival<X>>> inbox = new HashMap<>();
    /** Per layer node, the input it ran on (its gate compares the output with it). */
    private final Map<Integer, Part<X>> layerInputs = new HashMap<>();

    Flow(Plan plan, LayerOps<X, ?, ?> ops, Workspace ws) {
        this.plan = plan;
        this.ops = ops;
        this.ws = ws;
    }

    /** Sends {@code part} from {@code from} to {@code to}; an empty part is not sent. */
    void send(int from, int to, Part<X> part) {
        if (part != null && part.size() > 0) {
            inbox.computeIfAbsent(to, k -> new ArrayList<>()).add(new Arrival<>(from, part));
        }
    }

    /** Sends {@code part} along the single unconditional edge leaving {@code node}. */
    void forward(PlanNode node, Part<X> part) {
        List<Plan.Edge> out = plan.outgoing(node.id());
        if (out.size() != 1) {
            throw new IllegalStateException("plan node " + node.label() + " has " + out.size() + " successors, expected 1");
        }
        send(node.id(), out.get(0).to(), part);
    }

    /** What arrived at {@code node}, in the order of its incoming edges; empty if nothing did. */
    List<Arrival<X>> arrivals(PlanNode node) {
        List<Arrival<X>> got = inbox.getOrDefault(node.id(), List.of());
        if (got.size() < 2) {
            return got;
        }
        List<Plan.Edge> in = plan.incoming(node.id());
        List<Arrival<X>> ordered = new ArrayList<>(got);
        ordered.sort((a, b) -> Integer.compare(edgeIndex(in, a.from()), edgeIndex(in, b.from())));
        return ordered;
    }

    private static int edgeIndex(List<Plan.Edge> edges, int from) {
        for (int i = 0; i < edges.size(); i++) {
            if (edges.get(i).from() == from) {
                return i;
            }
        }
        throw new IllegalStateException("no edge from node " + from);
    }

    /**
     * The input of a layer node: the single part that arrived, or the segment-wise concatenation
     * of the parts that arrived along several edges (the joint encoder's [image ; text]); null when
     * every member exited before it.
     */
    Part<X> layerInput(PlanNode node) {
        List<Arrival<X>> got = arrivals(node);
        if (got.isEmpty()) {
            return null;
        }
        Part<X> in = got.get(0).part();
        for (int i = 1; i < got.size(); i++) {
            Part<X> next = got.get(i).part();
            if (!Arrays.equals(in.members(), next.members())) {
                throw new IllegalStateException("inputs of " + node.label() + " cover different members");
            }
            in = in.with(ops.concat(ws, in.x(), next.x()));
        }
        layerInputs.put(node.id(), in);
        return in;
    }

    /** The input of the layer that feeds gate {@code gate}. */
    Part<X> inputOfLayerBefore(PlanNode.ExitGate gate) {
        List<Plan.Edge> in = plan.incoming(gate.id());
        return layerInputs.get(in.get(0).from());
    }

    /** The single part that arrived at {@code node}, or null. */
    Part<X> single(PlanNode node) {
        List<Arrival<X>> got = arrivals(node);
        if (got.size() > 1) {
            throw new IllegalStateException(node.label() + " got " + got.size() + " inputs, expected one");
        }
        return got.isEmpty() ? null : got.get(0).part();
    }

    /** The members of {@code part} at the given indices, compacted (the part itself when all are kept). */
    Part<X> select(Part<X> part, int[] which) {
        if (which.length == part.size()) {
            return part;
        }
        int[] starts = new int[part.size()];
        int s = 0;
        for (int i = 0; i < part.size(); i++) {
            starts[i] = s;
            s += part.segments()[i];
        }
        int[] members = new int[which.length];
        int[] segments = new int[which.length];
        int total = 0;
        for (int k = 0; k < which.length; k++) {
            members[k] = part.members()[which[k]];
            segments[k] = part.segments()[which[k]];
            total += segments[k];
        }
        int[] seg = new int[total];
        int o = 0;
        for (int k = 0; k < which.length; k++) {
            for (int j = 0; j < segments[k]; j++) {
                seg[o++] = starts[which[k]] + j;
            }
        }
        return new Part<>(ops.gather(ws, List.of(part.x()), new int[total], seg), members, segments);
    }

    /** The parts merged into one, members ascending (a join: every exit of a stream in member order). */
    Part<X> merge(List<Part<X>> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        record Entry(int member, int part, int start, int count) {
        }
        List<Entry> entries = new ArrayList<>();
        for (int p = 0; p < parts.size(); p++) {
            Part<X> part = parts.get(p);
            int s = 0;
            for (int i = 0; i < part.size(); i++) {
                entries.add(new Entry(part.members()[i], p, s, part.segments()[i]));
                s += part.segments()[i];
            }
        }
        entries.sort((a, b) -> Integer.compare(a.member(), b.member()));
        int total = entries.stream().mapToInt(Entry::count).sum();
        int[] source = new int[total];
        int[] seg = new int[total];
        int[] members = new int[entries.size()];
        int[] segments = new int[entries.size()];
        int o = 0;
        for (int k = 0; k < entries.size(); k++) {
            Entry e = entries.get(k);
            members[k] = e.member();
            segments[k] = e.count();
            for (int j = 0; j < e.count(); j++) {
                source[o] = e.part();
                seg[o++] = e.start() + j;
            }
        }
        List<X> xs = new ArrayList<>();
        for (Part<X> p : parts) {
            xs.add(p.x());
        }
        return new Part<>(ops.gather(ws, xs, source, seg), members, segments);
    }

    /** Indices {@code i} of {@code flags} with {@code flags[i] == value}. */
    static int[] where(boolean[] flags, boolean value) {
        int n = 0;
        for (boolean f : flags) {
            n += f == value ? 1 : 0;
        }
        int[] out = new int[n];
        int o = 0;
        for (int i = 0; i < flags.length; i++) {
            if (flags[i] == value) {
                out[o++] = i;
            }
        }
        return out;
    }

    /** The last layer run by whatever arrives from node {@code from}: a gate's layer or a layer's own. */
    static int layerOf(PlanNode from) {
        return switch (from) {
            case PlanNode.ExitGate g -> g.layer();
            case PlanNode.EncoderLayer l -> l.layer();
            case PlanNode.DecoderLayer l -> l.layer();
            default -> throw new IllegalStateException("a join gets no input from " + from.label());
        };
    }
}
