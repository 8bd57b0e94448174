package dev.mue.planner;

import dev.mue.api.InvalidInputException;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.model.WeightLayout;
import dev.mue.api.exit.ExitCriteria;
import dev.mue.api.plan.Cost;
import dev.mue.api.plan.CostFormula;
import dev.mue.api.plan.Costs;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanNode;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.plan.PositionBiases;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.ExitPolicy;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiles a model and an exit policy into an immutable {@link Plan} (design §5).
 *
 * <p>Compilation validates the weights against the config (every missing, extra or mis-shaped
 * tensor is named), resolves them once into typed per-layer weights with BatchNorm folded
 * ({@link WeightLayout#resolve}), constant-folds the position biases, costs every node and lays out the graph:
 * for each encoder stream {@code embed -> L1 -> gate1 -> L2 -> ... -> Ln -> join}, where gate i
 * branches to the join (exit) or to layer i+1; then the encoder output; then one decoding step
 * {@code embed -> L1 -> gate1 -> ... -> join -> lm_head}. The last layer of a stack has no gate:
 * both branches would lead to the join.
 */
public final class Planner {
    private static final Logger LOG = LoggerFactory.getLogger(Planner.class);

    private Planner() {
    }

    /**
     * Validates and compiles.
     *
     * @throws dev.mue.api.WeightMismatchException when the weights do not fit the config
     * @throws InvalidInputException when the shapes exceed the model's positions
     */
    public static Plan compile(Model model, ExitPolicy policy, PlanShapes shapes) {
        ModelConfig c = model.config();
        if (shapes.maxTextTokens() > c.maxPositions() || shapes.maxDecoderTokens() > c.maxPositions()) {
            throw new InvalidInputException("plan shapes (text " + shapes.maxTextTokens() + ", decoder "
                    + shapes.maxDecoderTokens() + " tokens) exceed the model's max_positions " + c.maxPositions());
        }
        WeightValidator.validate(c, model.weights());
        ResolvedWeights weights = WeightLayout.resolve(c, model.weights());
        PositionBiases biases = new BiasFolder(c, weights.positions()).fold(policy, shapes);
        Builder b = new Builder(c, policy, shapes);
        b.build();
        Plan plan = new Plan(model, policy, shapes, b.nodes, b.edges, biases, weights);
        LOG.debug("compiled plan: {} nodes, {} edges, {} folded bias floats", plan.nodes().size(),
                plan.edges().size(), biases.floatCount());
        return plan;
    }

    /** Lays out nodes and edges; node ids are assigned in creation order. */
    private static final class Builder {
        final ModelConfig c;
        final ExitPolicy policy;
        final PlanShapes shapes;
        final List<PlanNode> nodes = new ArrayList<>();
        final List<Plan.Edge> edges = new ArrayList<>();

        Builder(ModelConfig c, ExitPolicy policy, PlanShapes shapes) {
            this.c = c;
            this.policy = policy;
            this.shapes = shapes;
        }

        private int next() {
            return nodes.size();
        }

        private void edge(int from, int to) {
            edges.add(new Plan.Edge(from, to, ""));
        }

        void build() {
            int img = c.imageTokens();
            int txt = shapes.maxTextTokens();
            List<Integer> joins = new ArrayList<>();
            CostFormula image = Costs.imageEmbedding(c);
            CostFormula tokens = Costs.tokenEmbedding(c);
            int embImg = add(new PlanNode.Embed(next(), Stream.IMAGE, at(image, 1, img, 0, 0), image));
            int embTxt = add(new PlanNode.Embed(next(), Stream.TEXT, at(tokens, 0, txt, 0, 0), tokens));
            switch (policy.encoderMode()) {
                case DECOMPOSED -> {
                    joins.add(stack(Stream.IMAGE, List.of(embImg), c.encoderLayers(), img));
                    joins.add(stack(Stream.TEXT, List.of(embTxt), c.encoderLayers(), txt));
                }
                case JOINT -> joins.add(stack(Stream.JOINT, List.of(embImg, embTxt), c.encoderLayers(), img + txt));
            }
            CostFormula output = Costs.encoderOutput(c);
            int out = add(new PlanNode.EncoderOutput(next(), at(output, 0, img + txt, 0, 0), output));
            for (int j : joins) {
                edge(j, out);
            }
            int embDec = add(new PlanNode.Embed(next(), Stream.DECODER, at(tokens, 0, 1, 0, 0), tokens));
            int join = stack(Stream.DECODER, List.of(embDec), c.decoderLayers(), 1);
            CostFormula head = Costs.lmHead(c);
            Cost headCost = at(head, 0, 1, 0, 0);
            int lmHead = add(new PlanNode.LmHead(next(), new Cost(headCost.flops(), 4L * c.vocabSize() * c.dModel()),
                    head));
            edge(join, lmHead);
        }

        private static Cost at(CostFormula f, long items, long tokens, long keys, long memoryKeys) {
            return new Cost(f.flops(items, tokens, keys, memoryKeys), 0);
        }

        private int add(PlanNode n) {
            nodes.add(n);
            return n.id();
        }

        /** Adds the layers and gates of one stream after {@code entries}; returns the join's id. */
        private int stack(Stream s, List<Integer> entries, int layers, int tokens) {
            long weightBytes = 4L * (4L * c.dModel() * c.dModel() + 2L * c.dModel() * c.ffnDim());
            String criterion = s == Stream.DECODER ? policy.decoderCriterion() : policy.encoderCriterion();
            CostFormula gateWork = Costs.gate(c, ExitCriteria.require(criterion, s).measures());
            Cost gateCost = at(gateWork, 0, tokens, 0, 0);
            int memory = c.imageTokens() + shapes.maxTextTokens();
            int[] layerIds = new int[layers];
            int[] gateIds = new int[layers - 1];
            int prev = -1;
            for (int l = 1; l <= layers; l++) {
                PlanNode layer;
                if (s == Stream.DECODER) {
                    CostFormula f = Costs.decoderLayer(c);
                    Cost cost = new Cost(f.flops(0, 1, shapes.maxDecoderTokens(), memory), weightBytes);
                    layer = new PlanNode.DecoderLayer(next(), l, cost, f, Costs.kvPropagate(c));
                } else {
                    CostFormula f = Costs.encoderLayer(c);
                    Cost cost = new Cost(f.flops(0, tokens, (long) tokens * tokens, 0), weightBytes);
                    layer = new PlanNode.EncoderLayer(next(), s, l, cost, f);
                }
                layerIds[l - 1] = add(layer);
                if (l == 1) {
                    for (int e : entries) {
                        edge(e, layerIds[0]);
                    }
                } else {
                    edge(prev, layerIds[l - 1]);
                }
                if (l < layers) {
                    // Placeholder targets are patched below, once the join and next layer exist.
                    gateIds[l - 1] = add(new PlanNode.ExitGate(next(), s, l, -1, -1, l >= policy.minExitLayer(),
                            criterion, gateCost, gateWork));
                    edge(layerIds[l - 1], gateIds[l - 1]);
                    prev = gateIds[l - 1];
                } else {
                    prev = layerIds[l - 1];
                }
            }
            int join = add(new PlanNode.Join(next(), s, Cost.ZERO, CostFormula.ZERO));
            edge(prev, join);
            // The else edge of gate i was added as the plain edge gate -> layer i+1; relabel it
            // and add the then edge to the join.
            for (int i = 0; i < gateIds.length; i++) {
                int g = gateIds[i];
                PlanNode.ExitGate old = (PlanNode.ExitGate) nodes.get(g);
                nodes.set(g, new PlanNode.ExitGate(g, s, old.layer(), join, layerIds[i + 1], old.enabled(),
                        old.criterion(), old.cost(), old.work()));
                for (int e = 0; e < edges.size(); e++) {
                    Plan.Edge ed = edges.get(e);
                    if (ed.from() == g && ed.to() == layerIds[i + 1]) {
                        edges.set(e, new Plan.Edge(g, ed.to(), "else"));
                    }
                }
                if (old.enabled()) {
                    edges.add(new Plan.Edge(g, join, "then"));
                }
            }
            return join;
        }
    }
}
