package dev.mue.backend.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.Prepared;
import dev.mue.runtime.Runtime;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.tck.cases.TckCase;
import dev.mue.tck.cases.TckCases;
import dev.mue.tck.check.CaseRun;
import dev.mue.tck.check.CaseRunner;
import dev.mue.tck.check.ReferenceRun;
import dev.mue.tck.check.Float32;
import dev.mue.tck.check.Tolerances;
import dev.mue.tck.reference.RecordingStepper;
import dev.mue.tck.reference.ReferenceMath;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Eager mode as a second oracle for the compiled graphs (issue §4). On every TCK case the graph's
 * run (shared with the conformance suite through {@link CaseRunner}'s cache) and an eager run must
 * make the same decisions (every encoder stream's exit and gates, every decoding step of the
 * reference's beam search replayed row by row, the scoring pass) with similarities, outputs and
 * logits within the same-library bands of {@link Float32} (vectors relative to their scale). The
 * graph decides each gate with an {@code If} inside TensorFlow; the eager mode reads the similarity back and
 * decides on the host; both run the same {@link TfStage} ops.
 *
 * <p>The eager side skips the free beam search and the batch-versus-singles runs, which the
 * conformance suite checks on the graph; the replay already drives the eager decoder through every
 * step of the reference's search.
 */
class TfGraphEagerTest {
    /**
     * Relative vector tolerance between graph and eager: the same library, but Grappler may fuse
     * ops in the graph and oneDNN picks its kernels by ISA, so sums are reordered
     * ({@link Float32#SAME_LIBRARY_VECTOR}; the TCK allows 1e-4 against the reference).
     */
    static final double VECTOR = Float32.SAME_LIBRARY_VECTOR;
    /** Absolute similarity tolerance between graph and eager ({@link Float32#SAME_LIBRARY_SIMILARITY}). */
    static final double SIMILARITY = Float32.SAME_LIBRARY_SIMILARITY;

    @TestFactory
    Stream<DynamicTest> graphAndEagerAgreeOnEveryTckCase() {
        return TckCases.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> compare(c)));
    }

    /** What the eager side produces for a case. */
    private record EagerRun(List<CaseRun.Example> encoded, List<RecordingStepper.Step> steps, ScoringOutput scoring) {
    }

    private static EagerRun eager(Executable ex, TckCase c, ReferenceRun ref) {
        int n = c.encoderInputs().size();
        int[] rows = IntStream.range(0, n).toArray();
        try (EncodedBatch enc = ex.encode(c.encoderInputs())) {
            List<CaseRun.Example> examples = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                examples.add(new CaseRun.Example(enc.exits(i), enc.outputTokens(i),
                        ReferenceMath.toDouble(enc.output(i))));
            }
            List<RecordingStepper.Step> steps = List.of();
            if (c.generates()) {
                try (RecordingStepper rec = new RecordingStepper(ex.decoder(enc, rows, c.decoding().maxLength()), rows)) {
                    for (RecordingStepper.Call call : ref.run().replay()) {
                        switch (call) {
                            case RecordingStepper.Step s -> rec.step(s.tokens());
                            case RecordingStepper.Reorder r -> rec.reorder(r.parents());
                        }
                    }
                    steps = rec.calls().stream().filter(k -> k instanceof RecordingStepper.Step)
                            .map(k -> (RecordingStepper.Step) k).toList();
                }
            }
            ScoringOutput scored = null;
            if (c.scores()) {
                TckCase.Scoring s = c.scoring();
                scored = ex.score(enc, s.exampleOfRow(), s.sequences(), s.firstScored());
            }
            return new EagerRun(examples, steps, scored);
        }
    }

    private static void compare(TckCase c) {
        ReferenceRun ref = CaseRunner.reference(c);
        CaseRun graph = CaseRunner.backend(TfFixture.graph(), c);
        EagerRun eager;
        Prepared prepared = TfFixture.eager().prepare(c.plan());
        assertTrue(prepared instanceof Prepared.Interpreted i && i.ops() instanceof TfEagerOps, prepared.toString());
        try (Executable ex = Runtime.executable(c.plan(), prepared)) {
            eager = eager(ex, c, ref);
        }
        for (int i = 0; i < graph.encoded().size(); i++) {
            CaseRun.Example g = graph.encoded().get(i);
            CaseRun.Example e = eager.encoded().get(i);
            List<GateRecord> gg = new ArrayList<>();
            List<GateRecord> eg = new ArrayList<>();
            for (int s = 0; s < g.exits().size(); s++) {
                EncoderExit ge = g.exits().get(s);
                EncoderExit ee = e.exits().get(s);
                assertEquals(ge.stream() + "@" + ge.exitLayer(), ee.stream() + "@" + ee.exitLayer(), "example " + i);
                gg.addAll(ge.gates());
                eg.addAll(ee.gates());
            }
            gates("example " + i + " encoder", gg, eg);
            vector("example " + i + " encoder output", g.output(), e.output());
        }
        List<RecordingStepper.Step> gs = graph.steps();
        assertEquals(gs.size(), eager.steps().size(), "replayed steps");
        for (int s = 0; s < gs.size(); s++) {
            RecordingStepper.Step g = gs.get(s);
            RecordingStepper.Step e = eager.steps().get(s);
            assertEquals(Arrays.toString(g.exitLayer()), Arrays.toString(e.exitLayer()), "exit layers at step " + s);
            for (int r = 0; r < g.logits().length; r++) {
                gates("step " + s + " row " + r, g.gates().get(r), e.gates().get(r));
                vector("step " + s + " row " + r + " logits", g.logits()[r], e.logits()[r]);
            }
        }
        if (c.scores()) {
            assertEquals(Arrays.toString(graph.scoring().exitLayer()), Arrays.toString(eager.scoring().exitLayer()),
                    "scoring exits");
            for (int x = 0; x < graph.scoring().gates().size(); x++) {
                gates("scoring example " + x, graph.scoring().gates().get(x), eager.scoring().gates().get(x));
            }
            for (int r = 0; r < graph.scoring().logits().length; r++) {
                for (int t = 0; t < graph.scoring().logits()[r].length; t++) {
                    vector("scoring row " + r + " position " + t, graph.scoring().logits()[r][t],
                            ReferenceMath.toDouble(eager.scoring().logits()[r][t]));
                }
            }
        }
    }

    private static void gates(String where, List<GateRecord> g, List<GateRecord> e) {
        assertEquals(g.size(), e.size(), where + ": gates evaluated");
        for (int k = 0; k < g.size(); k++) {
            assertEquals(g.get(k).layer(), e.get(k).layer(), where);
            assertEquals(g.get(k).exit(), e.get(k).exit(), where + ": decision at layer " + g.get(k).layer());
            assertEquals(g.get(k).threshold(), e.get(k).threshold(), 0.0, where + ": threshold");
            assertEquals(g.get(k).similarity(), e.get(k).similarity(), SIMILARITY, where + ": similarity");
        }
    }

    private static void vector(String where, double[] g, double[] e) {
        double err = Tolerances.vectorError(g, e, g);
        assertTrue(err <= VECTOR, where + ": graph and eager differ by " + err + " (relative), allowed " + VECTOR);
    }
}
