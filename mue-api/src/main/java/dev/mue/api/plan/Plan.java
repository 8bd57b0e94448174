package dev.mue.api.plan;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * An immutable, compiled execution plan: a model and an exit policy turned into a static graph in
 * which every exit point is an explicit conditional branch ({@link PlanNode.ExitGate}).
 *
 * <p>The graph has two stages: the encoder (one entry per stream) and one decoding step (also
 * used once, over whole sequences, for visual-entailment scoring). Backends receive only the plan,
 * read the model's parameters from {@link #weights()} (never by key name) and never re-derive the
 * architecture. Build plans with the planner
 * ({@code dev.mue.planner.Planner.compile}).
 *
 * @param model   the model, config and weights
 * @param policy  the exit policy
 * @param shapes  the largest inputs the biases are folded for
 * @param nodes   every node, indexed by {@link PlanNode#id()}
 * @param edges   control-flow edges; a gate has a {@code then} and an {@code else} edge
 * @param biases  the constant-folded position biases
 * @param weights the model's weights resolved once into typed per-layer records, BatchNorm folded:
 *                what backends read instead of key names
 */
public record Plan(Model model, ExitPolicy policy, PlanShapes shapes, List<PlanNode> nodes, List<Edge> edges,
        PositionBiases biases, ResolvedWeights weights) {

    /**
     * A control-flow edge.
     *
     * @param from  source node id
     * @param to    target node id
     * @param label {@code then}, {@code else} or empty for an unconditional edge
     */
    public record Edge(int from, int to, String label) {
    }

    /** Copies the lists and checks that node ids are their indices. */
    public Plan {
        nodes = List.copyOf(nodes);
        edges = List.copyOf(edges);
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).id() != i) {
                throw new IllegalArgumentException("plan node " + nodes.get(i).label() + " has id "
                        + nodes.get(i).id() + " at index " + i);
            }
        }
        Objects.requireNonNull(biases, "biases");
        Objects.requireNonNull(weights, "weights");
    }

    /** The model's architecture. */
    public ModelConfig config() {
        return model.config();
    }

    /** The gates of one stream, ordered by layer. */
    public List<PlanNode.ExitGate> gates(Stream stream) {
        return nodes.stream().filter(n -> n instanceof PlanNode.ExitGate g && g.stream() == stream)
                .map(n -> (PlanNode.ExitGate) n).toList();
    }

    /** The layer nodes of one stream, ordered by layer. */
    public List<PlanNode> layers(Stream stream) {
        return nodes.stream().filter(n -> (n instanceof PlanNode.EncoderLayer e && e.stream() == stream)
                || (stream == Stream.DECODER && n instanceof PlanNode.DecoderLayer)).toList();
    }

    /** Total estimated cost of every node, i.e. of one encoder pass plus one decoding step with no exit. */
    public Cost totalCost() {
        Cost c = Cost.ZERO;
        for (PlanNode n : nodes) {
            c = c.plus(n.cost());
        }
        return c;
    }

    /** The streams of the encoder stage under this plan's policy. */
    public List<Stream> encoderStreams() {
        return policy.encoderMode() == EncoderMode.DECOMPOSED ? List.of(Stream.IMAGE, Stream.TEXT)
                : List.of(Stream.JOINT);
    }

    /** A human-readable listing of the graph, one node a line, gates shown as branches. */
    public String describe() {
        ModelConfig c = config();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "plan %s: d=%d heads=%d layers=%d+%d ffn=%d vocab=%d image=%dpx (%d tokens)%n",
                c.name(), c.dModel(), c.heads(), c.encoderLayers(), c.decoderLayers(), c.ffnDim(), c.vocabSize(),
                c.imageSize(), c.imageTokens()));
        sb.append("policy: ").append(policy.describe()).append('\n');
        sb.append(String.format(Locale.ROOT, "shapes: text<=%d tokens, decoder<=%d tokens; folded biases %.1f MB%n",
                shapes.maxTextTokens(), shapes.maxDecoderTokens(), biases.floatCount() * 4 / 1e6));
        Map<Integer, List<Edge>> out = new java.util.HashMap<>();
        for (Edge e : edges) {
            out.computeIfAbsent(e.from(), k -> new ArrayList<>()).add(e);
        }
        for (PlanNode n : nodes) {
            sb.append(String.format(Locale.ROOT, "  n%-3d %-16s", n.id(), n.label()));
            if (n instanceof PlanNode.ExitGate g) {
                String th = thresholdText(g.stream());
                sb.append(g.enabled()
                        ? String.format(Locale.ROOT, " if cos(out,in) > %s then n%d (%s) else n%d (%s)", th,
                                g.thenNode(), nodes.get(g.thenNode()).label(), g.elseNode(),
                                nodes.get(g.elseNode()).label())
                        : String.format(Locale.ROOT, " disabled (below min layer) -> n%d", g.elseNode()));
            } else {
                List<Edge> es = out.getOrDefault(n.id(), List.of());
                if (!es.isEmpty()) {
                    sb.append(" -> ");
                    sb.append(String.join(", ", es.stream().map(e -> "n" + e.to()).toList()));
                }
            }
            if (n.cost().flops() > 0) {
                sb.append("   [").append(n.cost().flopsString()).append(']');
            }
            sb.append('\n');
        }
        sb.append("total (no exits): ").append(totalCost().flopsString()).append('\n');
        return sb.toString();
    }

    private String thresholdText(Stream s) {
        return switch (s) {
            case IMAGE -> Double.toString(policy.imageThreshold());
            case TEXT -> Double.toString(policy.textThreshold());
            case JOINT -> Double.toString(policy.jointThreshold());
            case DECODER -> policy.decoderSchedule().describe() + "[t]";
        };
    }

    /** The graph in Graphviz DOT: gates are diamonds with {@code then}/{@code else} edges. */
    public String toDot() {
        StringBuilder sb = new StringBuilder("digraph mue_plan {\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n");
        for (PlanNode n : nodes) {
            String shape = switch (n) {
                case PlanNode.ExitGate g -> "diamond";
                case PlanNode.Join j -> "circle";
                case PlanNode.Embed e -> "parallelogram";
                default -> "box";
            };
            String label = n instanceof PlanNode.ExitGate g
                    ? g.label() + "\\ncos > " + thresholdText(g.stream()) + (g.enabled() ? "" : "\\n(disabled)")
                    : n.label() + (n.cost().flops() > 0 ? "\\n" + n.cost().flopsString() : "");
            sb.append(String.format(Locale.ROOT, "  n%d [label=\"%s\", shape=%s];%n", n.id(), label, shape));
        }
        for (Edge e : edges) {
            sb.append(String.format(Locale.ROOT, "  n%d -> n%d%s;%n", e.from(), e.to(),
                    e.label().isEmpty() ? "" : " [label=\"" + e.label() + "\""
                            + (e.label().equals("then") ? ", style=dashed" : "") + "]"));
        }
        return sb.append("}\n").toString();
    }
}
