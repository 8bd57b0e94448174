package dev.mue.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.ExitTrace;
import dev.mue.api.GateRecord;
import dev.mue.api.plan.Costs;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Trace FLOPs are the plan's node formulas summed over what ran. */
class TracesTest {
    private static List<GateRecord> gates(Stream s, int exitLayer, int layers) {
        List<GateRecord> g = new ArrayList<>();
        for (int l = 1; l <= Math.min(exitLayer, layers - 1); l++) {
            g.add(new GateRecord(s, l, 0.5, 0.6, l == exitLayer));
        }
        return g;
    }

    @Test
    void aGeneratedTextSumsTheLayersAndGatesItRanAndTheFixedWork() {
        Plan plan = PlanExecutableTest.plan(ExitPolicy.builder().kvPolicy(KvPolicy.PROPAGATE).build());
        var c = plan.config();
        List<EncoderExit> enc = List.of(new EncoderExit(Stream.IMAGE, 1, 4, gates(Stream.IMAGE, 1, 3)),
                new EncoderExit(Stream.TEXT, 3, 5, gates(Stream.TEXT, 3, 3)));
        List<DecoderStepTrace> steps = List.of(new DecoderStepTrace(0, 7, 2, gates(Stream.DECODER, 2, 3)),
                new DecoderStepTrace(1, 2, 3, gates(Stream.DECODER, 3, 3)));
        ExitTrace t = Traces.generation(plan, enc, steps, 9);
        var layer = Costs.encoderLayer(c);
        var gate = Costs.gate(c, java.util.Set.of(dev.mue.api.exit.GateMeasure.COSINE));
        var dec = Costs.decoderLayer(c);
        long run = layer.flops(0, 4, 16, 0) + gate.flops(0, 4, 0, 0)
                + 3 * layer.flops(0, 5, 25, 0) + 2 * gate.flops(0, 5, 0, 0)
                + 2 * dec.flops(0, 1, 1, 9) + 2 * gate.flops(0, 1, 0, 0) + Costs.kvPropagate(c).flops(0, 1, 0, 0)
                + 3 * dec.flops(0, 1, 2, 9) + 2 * gate.flops(0, 1, 0, 0);
        long full = 3 * layer.flops(0, 4, 16, 0) + 3 * layer.flops(0, 5, 25, 0) + 3 * dec.flops(0, 1, 1, 9)
                + 3 * dec.flops(0, 1, 2, 9);
        long fixed = Costs.imageEmbedding(c).flops(1, 4, 0, 0) + Costs.tokenEmbedding(c).flops(0, 5, 0, 0)
                + Costs.encoderOutput(c).flops(0, 9, 0, 0) + 2 * (Costs.tokenEmbedding(c).flops(0, 1, 0, 0)
                + Costs.lmHead(c).flops(0, 1, 0, 0));
        assertEquals(run, t.flopsRun());
        assertEquals(full, t.flopsFull());
        assertEquals(fixed, t.flopsFixed());
        assertTrue(t.wholePassFlopReduction() < t.flopReduction());
        assertEquals(1 - (double) (run + fixed) / (full + fixed), t.wholePassFlopReduction(), 1e-12);
        assertTrue(fixed > Costs.backbone(c), "the backbone is part of the fixed work");
    }

    @Test
    void aFullRunSavesNothingOnEitherMeasure() {
        Plan plan = PlanExecutableTest.plan(ExitPolicy.full());
        List<EncoderExit> enc = List.of(new EncoderExit(Stream.IMAGE, 3, 4, List.of()),
                new EncoderExit(Stream.TEXT, 3, 5, List.of()));
        ExitTrace t = Traces.scoring(plan, enc, new DecoderStepTrace(0, 7, 3, List.of()), 9, new int[] {4, 5},
                new int[] {2, 3});
        assertEquals(t.flopsFull(), t.flopsRun());
        assertEquals(0.0, t.flopReduction());
        assertEquals(0.0, t.wholePassFlopReduction());
        var c = plan.config();
        // Scoring: 9 positions attending 4*5/2 + 5*6/2 keys; logits for 2 + 2 positions.
        assertEquals(3 * (Costs.encoderLayer(c).flops(0, 4, 16, 0) + Costs.encoderLayer(c).flops(0, 5, 25, 0))
                + 3 * Costs.decoderLayer(c).flops(0, 9, 25, 81), t.flopsFull());
        assertEquals(Costs.imageEmbedding(c).flops(1, 4, 0, 0) + Costs.tokenEmbedding(c).flops(0, 5, 0, 0)
                + Costs.encoderOutput(c).flops(0, 9, 0, 0) + Costs.tokenEmbedding(c).flops(0, 9, 0, 0)
                + Costs.lmHead(c).flops(0, 4, 0, 0), t.flopsFixed());
    }
}
