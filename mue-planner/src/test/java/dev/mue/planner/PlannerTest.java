package dev.mue.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.InvalidInputException;
import dev.mue.api.WeightMismatchException;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.Weights;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanNode;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlannerTest {
    private final ModelConfig config = TestModels.small();
    private final Model model = TestModels.model(config, 3);
    private final PlanShapes shapes = new PlanShapes(12, 10);

    @Test
    void decomposedPlanHasAGateAfterEveryLayerButTheLastBranchingToTheJoin() {
        Plan plan = Planner.compile(model, ExitPolicy.paper(), shapes);
        for (Stream s : List.of(Stream.IMAGE, Stream.TEXT)) {
            List<PlanNode.ExitGate> gates = plan.gates(s);
            assertEquals(config.encoderLayers() - 1, gates.size(), s + " gates");
            PlanNode join = plan.nodes().stream().filter(n -> n instanceof PlanNode.Join j && j.stream() == s)
                    .findFirst().orElseThrow();
            for (PlanNode.ExitGate g : gates) {
                assertEquals(join.id(), g.thenNode(), "then-branch of " + g.label() + " goes to the join");
                PlanNode next = plan.nodes().get(g.elseNode());
                assertTrue(next instanceof PlanNode.EncoderLayer e && e.layer() == g.layer() + 1,
                        "else-branch of " + g.label() + " is the next layer");
                assertTrue(plan.edges().contains(new Plan.Edge(g.id(), join.id(), "then")));
                assertTrue(plan.edges().contains(new Plan.Edge(g.id(), g.elseNode(), "else")));
            }
        }
        assertEquals(config.decoderLayers() - 1, plan.gates(Stream.DECODER).size());
        assertTrue(plan.gates(Stream.JOINT).isEmpty());
        assertEquals(List.of(Stream.IMAGE, Stream.TEXT), plan.encoderStreams());
    }

    @Test
    void jointPlanHasOneEncoderStream() {
        Plan plan = Planner.compile(model, ExitPolicy.paper().toBuilder().encoderMode(EncoderMode.JOINT).build(), shapes);
        assertEquals(config.encoderLayers() - 1, plan.gates(Stream.JOINT).size());
        assertTrue(plan.gates(Stream.IMAGE).isEmpty());
        assertTrue(plan.biases().encoderJoint() != null && plan.biases().encoderText() == null);
    }

    @Test
    void minimumLayerDisablesEarlierGates() {
        Plan plan = Planner.compile(model, ExitPolicy.paper().toBuilder().minExitLayer(2).build(), shapes);
        List<PlanNode.ExitGate> gates = plan.gates(Stream.TEXT);
        assertFalse(gates.get(0).enabled());
        assertTrue(gates.get(1).enabled());
        assertFalse(plan.edges().stream().anyMatch(e -> e.from() == gates.get(0).id() && e.label().equals("then")));
    }

    @Test
    void describeAndDotShowTheBranches() {
        Plan plan = Planner.compile(model, ExitPolicy.paper(), shapes);
        String text = plan.describe();
        assertTrue(text.contains("gate.image.L1") && text.contains("if cos(out,in) > 0.9 then"), text);
        assertTrue(text.contains("decay(0.99,0.95,1.0)"), text);
        String dot = plan.toDot();
        assertTrue(dot.startsWith("digraph"));
        assertTrue(dot.contains("shape=diamond") && dot.contains("label=\"then\"") && dot.contains("label=\"else\""));
    }

    @Test
    void costsArePositiveAndScaleWithTokens() {
        Plan plan = Planner.compile(model, ExitPolicy.full(), shapes);
        PlanNode.EncoderLayer img = (PlanNode.EncoderLayer) plan.layers(Stream.IMAGE).get(0);
        PlanNode.EncoderLayer txt = (PlanNode.EncoderLayer) plan.layers(Stream.TEXT).get(0);
        assertTrue(img.cost().flops() > 0);
        // 9 image tokens (48 px), 12 text tokens: text layers cost more here
        assertTrue(txt.cost().flops() > img.cost().flops());
        assertTrue(plan.totalCost().flops() > 0);
    }

    @Test
    void everyWeightProblemIsNamed() {
        List<FloatTensor> ts = new ArrayList<>();
        for (FloatTensor t : model.weights().all()) {
            if (t.name().equals("encoder.layers.1.fc1.bias")) {
                continue; // missing
            }
            if (t.name().equals("decoder.layers.0.self_attn.c_attn")) {
                ts.add(new FloatTensor(t.name(), new int[] {5}, new float[5])); // mis-shaped
                continue;
            }
            ts.add(t);
        }
        ts.add(new FloatTensor("decoder.output_projection.weight", new int[] {2, 2}, new float[4])); // extra
        Model bad = new Model(config, new Weights(ts), TestModels.VOCAB, "bad");
        WeightMismatchException e = assertThrows(WeightMismatchException.class,
                () -> Planner.compile(bad, ExitPolicy.full(), shapes));
        assertEquals(3, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().contains("missing encoder.layers.1.fc1.bias"), e.getMessage());
        assertTrue(e.getMessage().contains("mis-shaped decoder.layers.0.self_attn.c_attn: [5], expected [3]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("unexpected decoder.output_projection.weight"), e.getMessage());
    }

    @Test
    void nonFiniteWeightsAreRejected() {
        List<FloatTensor> ts = new ArrayList<>();
        for (FloatTensor t : model.weights().all()) {
            if (t.name().equals("encoder.layer_norm.weight")) {
                float[] d = t.data().clone();
                d[3] = Float.NaN;
                ts.add(new FloatTensor(t.name(), t.shape(), d));
            } else {
                ts.add(t);
            }
        }
        Model bad = new Model(config, new Weights(ts), TestModels.VOCAB, "bad");
        WeightMismatchException e = assertThrows(WeightMismatchException.class,
                () -> Planner.compile(bad, ExitPolicy.full(), shapes));
        assertTrue(e.getMessage().contains("non-finite value in encoder.layer_norm.weight"), e.getMessage());
    }

    @Test
    void shapesBeyondTheModelsPositionsAreRejected() {
        assertThrows(InvalidInputException.class, () -> Planner.compile(model, ExitPolicy.full(), new PlanShapes(41, 10)));
    }
}
