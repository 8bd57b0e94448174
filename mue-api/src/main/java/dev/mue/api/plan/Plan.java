package dev.mue.api.plan;

import dev.mue.api.exit.ExitCriteria;
import dev.mue.api.exit.ExitCriterion;
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
 * used once, over whole sequences, for visual-entailment scoring). The plan is the program: the
 * runtime ({@code dev.mue.runtime}) executes it by walking {@link #encoderStage()} and
 * {@link #decoderStage()} along {@link #edges()}, deciding each gate with {@link #threshold} and
 * filling skipped decoder layers with {@link #kvFillAfterExit}; a compiling backend turns the same
 * nodes into its own program. Backends read the model's parameters from {@link #weights()} (never
 * by key name) and never re-derive the architecture. Build plans with the planner
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

    /** The nodes of the encoder stage (embeddings to the encoder output), in id order: a topological order. */
    public List<PlanNode> encoderStage() {
        return nodes.stream().filter(n -> !isDecoderStage(n)).toList();
    }

    /** The nodes of one decoding step (decoder embedding to the LM head), in id order: a topological order. */
    public List<PlanNode> decoderStage() {
        return nodes.stream().filter(Plan::isDecoderStage).toList();
    }

    private static boolean isDecoderStage(PlanNode n) {
        return switch (n) {
            case PlanNode.Embed e -> e.stream() == Stream.DECODER;
            case PlanNode.EncoderLayer e -> false;
            case PlanNode.DecoderLayer d -> true;
            case PlanNode.ExitGate g -> g.stream() == Stream.DECODER;
            case PlanNode.Join j -> j.stream() == Stream.DECODER;
            case PlanNode.EncoderOutput o -> false;
            case PlanNode.LmHead h -> true;
        };
    }

    /** The edges leaving {@code node}, in plan order. */
    public List<Edge> outgoing(int node) {
        return edges.stream().filter(e -> e.from() == node).toList();
    }

    /** The edges entering {@code node}, in plan order (for a joint first layer: image, then text). */
    public List<Edge> incoming(int node) {
        return edges.stream().filter(e -> e.to() == node).toList();
    }

    /**
     * The threshold of an encoder gate, or of a decoder gate in a visual-entailment scoring pass
     * (the schedule's static theta: one pass, one fixed threshold, design §4).
     */
    public double threshold(PlanNode.ExitGate gate) {
        return switch (gate.stream()) {
            case IMAGE -> policy.imageThreshold();
            case TEXT -> policy.textThreshold();
            case JOINT -> policy.jointThreshold();
            case DECODER -> policy.decoderSchedule().theta();
        };
    }

    /**
     * The threshold of a decoder gate at decoding step {@code step} (0-based) of at most
     * {@code horizon} generated tokens, per the policy's schedule.
     */
    public double threshold(PlanNode.ExitGate gate, int step, int horizon) {
        if (gate.stream() != Stream.DECODER) {
            return threshold(gate);
        }
        return policy.decoderSchedule().threshold(step, horizon);
    }

    /**
     * What the decoder layers after {@code exitLayer} (1-based) keep for the position of a token that
     * exited there, per the policy's KV policy (design §4), in layer order: the one place the KV
     * policy is turned into actions. Empty for {@code OMIT} and after the last layer.
     */
    public List<KvFill> kvFillAfterExit(int exitLayer) {
        List<KvFill> out = new ArrayList<>();
        for (int l = exitLayer + 1; l <= config().decoderLayers(); l++) {
            switch (policy.kvPolicy()) {
                case PROPAGATE -> out.add(new KvFill.Propagate(l));
                case COPY -> out.add(new KvFill.Copy(l, exitLayer));
                case OMIT -> {
                    return List.of();
                }
            }
        }
        return out;
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
                        ? String.format(Locale.ROOT, " if %s > %s then n%d (%s) else n%d (%s)", score(g), th,
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

    private static String score(PlanNode.ExitGate g) {
        ExitCriterion c = ExitCriteria.all().get(g.criterion());
        return c == null ? g.criterion() : c.describe();
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
                    ? g.label() + "\\n" + score(g) + " > " + thresholdText(g.stream()) + (g.enabled() ? "" : "\\n(disabled)")
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
