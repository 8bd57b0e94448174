package dev.mue.tck.suite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.session.decode.BeamSearch;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.EncoderInput;
import dev.mue.planner.Planner;
import dev.mue.tck.cases.TckCase;
import dev.mue.tck.cases.TckCases;
import dev.mue.tck.check.CaseRun;
import dev.mue.tck.check.CaseRunner;
import dev.mue.tck.check.Comparison;
import dev.mue.tck.check.ReferenceRun;
import dev.mue.tck.check.Report;
import dev.mue.tck.check.Tolerances;
import dev.mue.tck.reference.RecordingStepper;
import dev.mue.tck.reference.ReferenceEncodedBatch;
import dev.mue.tck.reference.ReferenceExecutable;
import dev.mue.tck.reference.ReferenceExecutor;
import dev.mue.tck.reference.ReferenceMath;
import dev.mue.tck.reference.ReferenceStepper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The reference's own invariants: facts that follow from the specification and must hold of the
 * oracle before it may judge a backend (known values of erf and the OFA buckets; batch equals
 * singles bitwise; its own beam search agrees with the API's; incremental decoding equals the
 * scoring pass; the KV policies coincide without exits and differ after one; threshold -1 equals
 * a one-layer model; the catalogue's placed thresholds leave margins and vary the exits; bad
 * inputs are rejected).
 */
class ReferenceSelfTest {

    private static ReferenceExecutable reference(TckCase c, ExitPolicy p) {
        return new ReferenceExecutable(Planner.compile(c.buildModel(), p, c.shapes()));
    }

    @Test
    void erfAndGeluMatchKnownValues() {
        // erf values from Abramowitz & Stegun / high-precision tables
        assertEquals(0.0, ReferenceMath.erf(0), 0);
        assertEquals(0.5204998778130465, ReferenceMath.erf(0.5), 1e-15);
        assertEquals(0.8427007929497149, ReferenceMath.erf(1), 1e-15);
        assertEquals(0.9953222650189527, ReferenceMath.erf(2), 1e-15);
        assertEquals(0.9999779095030014, ReferenceMath.erf(3), 1e-15);
        assertEquals(-0.8427007929497149, ReferenceMath.erf(-1), 1e-15);
        assertEquals(1.0, ReferenceMath.erf(7), 0);
        // GELU(1) = 0.5 * (1 + erf(1/sqrt 2)) = 0.8413447460685429
        assertEquals(0.8413447460685429, ReferenceMath.gelu(1), 1e-15);
        assertEquals(-0.15865525393145705, ReferenceMath.gelu(-1), 1e-15);
        double worst = 0;
        for (double x = -6; x <= 6; x += 1e-3) {
            worst = Math.max(worst, Math.abs(ReferenceMath.gelu(x) - ReferenceMath.geluTanh(x)));
        }
        assertTrue(worst > 1e-4, "the tanh approximation is distinguishable: " + worst);
    }

    @Test
    void tokenBucketsFollowOfasFormula() {
        // OFA's defaults: 256 buckets, 1024 positions; mid 128
        assertEquals(255, ReferenceMath.tokenBucketRow(0, 256, 1024));
        assertEquals(255 + 128, ReferenceMath.tokenBucketRow(128, 256, 1024));
        assertEquals(255 - 128, ReferenceMath.tokenBucketRow(-128, 256, 1024));
        // ceil(ln(129/128) / ln(1023/128) * 127) + 128 = 1 + 128
        assertEquals(255 + 129, ReferenceMath.tokenBucketRow(129, 256, 1024));
        // ceil(ln(200/128) / ln(1023/128) * 127) + 128 = 28 + 128
        assertEquals(255 - 156, ReferenceMath.tokenBucketRow(-200, 256, 1024));
        assertEquals(510, ReferenceMath.tokenBucketRow(1023, 256, 1024));
        assertEquals(0, ReferenceMath.tokenBucketRow(-1023, 256, 1024));
        // 2-D image buckets, 42 per side: (0,0) vs (0,0) is the centre of an 83 x 83 table
        assertEquals(41 * 83 + 41, ReferenceMath.imageBucketRow(0, 0, 0, 0, 42));
        assertEquals(0, ReferenceMath.imageBucketRow(0, 0, 41, 41, 42));
        assertEquals(82 * 83 + 82, ReferenceMath.imageBucketRow(41, 41, 0, 0, 42));
    }

    @TestFactory
    java.util.stream.Stream<DynamicTest> batchEqualsSinglesBitwise() {
        return TckCases.all().stream().filter(c -> c.batchSize() > 1).map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            ReferenceRun ref = CaseRunner.reference(c);
            Report r = Comparison.batchVsSingles(ref, ref.run(), 0.0);
            if (!r.ok()) {
                fail(r.describe(c.name() + ": reference batch vs singles"));
            }
        }));
    }

    @TestFactory
    java.util.stream.Stream<DynamicTest> ownBeamSearchAgreesWithTheSharedOne() {
        return TckCases.all().stream().filter(TckCase::generates).map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            ReferenceRun ref = CaseRunner.reference(c);
            for (int e = 0; e < c.batchSize(); e++) {
                BeamSearch.Hypothesis own = ref.run().hypotheses().get(e);
                BeamSearch.Hypothesis shared = ref.sharedSearch().get(e);
                assertArrayEquals(shared.tokens(), own.tokens(), c.name() + " example " + e + " tokens");
                assertEquals(shared.score(), own.score(), 0.0, c.name() + " example " + e + " score");
                assertEquals(shared.steps(), own.steps(), c.name() + " example " + e + " steps");
            }
        }));
    }

    @Test
    void incrementalDecodingEqualsTheScoringPassWithoutExits() {
        TckCase c = TckCases.byName("s3-full-b1-beam3");
        int[] seq = {0, 7, 9, 12, 5, 30, 30};
        try (ReferenceExecutable ex = reference(c, ExitPolicy.full());
                ReferenceEncodedBatch enc = ex.encode(c.encoderInputs())) {
            ReferenceExecutor.ScoreResult s = ex.scoreExact(enc, new int[] {0}, new int[][] {seq}, new int[] {0}, 1.0);
            try (ReferenceStepper st = ex.decoder(enc, new int[] {0}, 16)) {
                for (int t = 0; t < seq.length; t++) {
                    double[] inc = st.stepExact(new int[] {seq[t]}, 1.0).logits()[0];
                    double[] full = s.logits()[0][t];
                    for (int v = 0; v < inc.length; v++) {
                        assertEquals(full[v], inc[v], 1e-12, "position " + t + " token " + v);
                    }
                }
            }
        }
    }

    @Test
    void kvPoliciesCoincideWithoutExitsAndDifferAfterAnEarlyExit() {
        TckCase c = TckCases.byName("s2-full-b5-beam3");
        double[] early = {-1, 1.0, 1.0, 1.0};
        Map<KvPolicy, double[]> after = new HashMap<>();
        Map<KvPolicy, double[]> without = new HashMap<>();
        for (KvPolicy kv : KvPolicy.values()) {
            try (ReferenceExecutable ex = reference(c, ExitPolicy.builder().kvPolicy(kv).build());
                    ReferenceEncodedBatch enc = ex.encode(c.encoderInputs().subList(0, 1))) {
                try (ReferenceStepper st = ex.decoder(enc, new int[] {0}, 16)) {
                    double[] last = null;
                    for (int t = 0; t < early.length; t++) {
                        ReferenceStepper.ExactStep o = st.stepExact(new int[] {t == 0 ? 0 : 5 + t}, early[t]);
                        assertEquals(t == 0 ? 1 : 3, o.exitLayer()[0], kv + " step " + t);
                        last = o.logits()[0];
                    }
                    after.put(kv, last);
                    ReferenceExecutor.Row row = st.rowStates().get(0);
                    int[] deep = row.positionsAt(2);
                    if (kv == KvPolicy.OMIT) {
                        assertArrayEquals(new int[] {1, 2, 3}, deep, "omit: layer 3 never saw position 0");
                    } else {
                        assertArrayEquals(new int[] {0, 1, 2, 3}, deep, kv + ": layer 3 holds position 0");
                    }
                }
                try (ReferenceStepper st = ex.decoder(enc, new int[] {0}, 16)) {
                    double[] last = null;
                    for (int t = 0; t < early.length; t++) {
                        last = st.stepExact(new int[] {t == 0 ? 0 : 5 + t}, 1.0).logits()[0];
                    }
                    without.put(kv, last);
                }
            }
        }
        assertArrayEquals(without.get(KvPolicy.PROPAGATE), without.get(KvPolicy.COPY), 0.0);
        assertArrayEquals(without.get(KvPolicy.PROPAGATE), without.get(KvPolicy.OMIT), 0.0);
        for (KvPolicy a : KvPolicy.values()) {
            for (KvPolicy b : KvPolicy.values()) {
                if (a.ordinal() < b.ordinal()) {
                    double d = 0;
                    for (int v = 0; v < after.get(a).length; v++) {
                        d = Math.max(d, Math.abs(after.get(a)[v] - after.get(b)[v]));
                    }
                    assertTrue(d > 1e-3, a + " and " + b + " must differ after an early exit, max |d| " + d);
                }
            }
        }
    }

    @Test
    void thresholdMinusOneEqualsAOneLayerModel() {
        TckCase c = TckCases.byName("s2-full-b5-beam3");
        ModelConfig m = c.model().config();
        ModelConfig one = new ModelConfig(m.name(), m.dModel(), 1, 1, m.heads(), m.ffnDim(), m.vocabSize(),
                m.maxPositions(), m.tokenBucketSize(), m.imageBucketSize(), m.imageSize(), m.resnet(), m.attnScaleFactor(),
                m.layerNormEps());
        // RandomWeights draws every tensor from its own name, so layer 0 of both models is the same.
        TckCase small = new TckCase("one-layer", "", new TckCase.ModelSpec(one, c.model().seed(), c.model().std()),
                c.shapes(), ExitPolicy.full(), c.inputs(), null, null);
        for (EncoderMode mode : EncoderMode.values()) {
            ExitPolicy minus = ExitPolicy.builder().encoderThreshold(-1).decoderThreshold(-1).encoderMode(mode).build();
            try (ReferenceExecutable a = reference(c, minus);
                    ReferenceExecutable b = reference(small, ExitPolicy.builder().encoderMode(mode).build());
                    ReferenceEncodedBatch ea = a.encode(c.encoderInputs());
                    ReferenceEncodedBatch eb = b.encode(c.encoderInputs())) {
                for (int i = 0; i < c.batchSize(); i++) {
                    for (EncoderExit e : ea.exits(i)) {
                        assertEquals(1, e.exitLayer(), mode + " " + e.stream());
                        assertEquals(1, e.gates().size());
                        assertTrue(e.gates().get(0).exit());
                    }
                    assertArrayEquals(eb.outputExact(i), ea.outputExact(i), 0.0, mode + " example " + i);
                }
                int[] rows = IntStream.range(0, c.batchSize()).toArray();
                try (ReferenceStepper sa = a.decoder(ea, rows, 16); ReferenceStepper sb = b.decoder(eb, rows, 16)) {
                    for (int t = 0; t < 5; t++) {
                        int[] toks = new int[rows.length];
                        Arrays.fill(toks, t == 0 ? 0 : 6 + t);
                        ReferenceStepper.ExactStep oa = sa.stepExact(toks, -1);
                        ReferenceStepper.ExactStep ob = sb.stepExact(toks, -1);
                        for (int r = 0; r < rows.length; r++) {
                            assertEquals(1, oa.exitLayer()[r]);
                            assertArrayEquals(ob.logits()[r], oa.logits()[r], 0.0, "step " + t + " row " + r);
                        }
                    }
                }
            }
        }
    }

    @Test
    void decomposedImageStreamDoesNotSeeTheText() {
        TckCase c = TckCases.byName("s3-full-b1-beam3");
        EncoderInput a = c.encoderInputs().get(0);
        EncoderInput b = new EncoderInput(a.image(), new int[] {0, 17, 18, 2});
        try (ReferenceExecutable ex = reference(c, ExitPolicy.full());
                ReferenceEncodedBatch enc = ex.encode(List.of(a, b))) {
            int img = c.model().config().imageTokens() * c.model().config().dModel();
            assertArrayEquals(Arrays.copyOf(enc.outputExact(0), img), Arrays.copyOf(enc.outputExact(1), img), 0.0);
            assertEquals(enc.exits(0).get(0), enc.exits(1).get(0));
        }
        try (ReferenceExecutable ex = reference(c, ExitPolicy.builder().encoderMode(EncoderMode.JOINT).build());
                ReferenceEncodedBatch enc = ex.encode(List.of(a, b))) {
            int img = c.model().config().imageTokens() * c.model().config().dModel();
            assertFalse(Arrays.equals(Arrays.copyOf(enc.outputExact(0), img), Arrays.copyOf(enc.outputExact(1), img)),
                    "the joint encoder's image tokens attend to the text");
        }
    }

    @Test
    void gatesAreRecordedUpToTheExitOnlyAndNeverAfterTheLastLayer() {
        for (TckCase c : TckCases.all()) {
            CaseRun run = CaseRunner.reference(c).run();
            int min = c.policy().minExitLayer();
            for (CaseRun.Example e : run.encoded()) {
                for (EncoderExit x : e.exits()) {
                    checkGates(c.name() + " " + x.stream(), x.gates(), x.exitLayer(), c.model().config().encoderLayers(), min);
                }
            }
            for (RecordingStepper.Step s : run.steps()) {
                for (int r = 0; r < s.exitLayer().length; r++) {
                    checkGates(c.name() + " decoder", s.gates().get(r), s.exitLayer()[r],
                            c.model().config().decoderLayers(), min);
                }
            }
            if (run.scoring() != null) {
                for (int e = 0; e < run.scoring().exitLayer().length; e++) {
                    checkGates(c.name() + " scoring", run.scoring().gates().get(e), run.scoring().exitLayer()[e],
                            c.model().config().decoderLayers(), min);
                }
            }
        }
    }

    private static void checkGates(String where, List<GateRecord> gates, int exit, int layers, int min) {
        assertEquals(Math.min(exit, layers - 1), gates.size(), where + ": one gate per layer run, none after the last");
        for (int k = 0; k < gates.size(); k++) {
            GateRecord g = gates.get(k);
            assertEquals(k + 1, g.layer(), where);
            boolean shouldExit = g.layer() >= min && g.similarity() > g.threshold();
            assertEquals(shouldExit, g.exit(), where + " layer " + g.layer());
            assertEquals(k + 1 == exit && exit < layers, g.exit(), where + " exits exactly at its exit layer");
        }
    }

    @Test
    void placedThresholdsLeaveAMarginAndVaryTheExits() {
        Map<Stream, Set<Integer>> exits = new HashMap<>();
        Set<KvPolicy> kvSensitive = new HashSet<>();
        List<String> close = new ArrayList<>();
        for (TckCase c : TckCases.all()) {
            ReferenceRun ref = CaseRunner.reference(c);
            int min = c.policy().minExitLayer();
            List<GateRecord> all = new ArrayList<>();
            for (CaseRun.Example e : ref.run().encoded()) {
                for (EncoderExit x : e.exits()) {
                    exits.computeIfAbsent(x.stream(), k -> new HashSet<>()).add(x.exitLayer());
                    all.addAll(x.gates());
                }
            }
            int[] shallowest = null;
            for (RecordingStepper.Call call : ref.run().replay()) {
                if (call instanceof RecordingStepper.Step s) {
                    if (shallowest == null) {
                        shallowest = new int[s.exitLayer().length];
                        Arrays.fill(shallowest, Integer.MAX_VALUE);
                    }
                    for (int r = 0; r < s.exitLayer().length; r++) {
                        exits.computeIfAbsent(Stream.DECODER, k -> new HashSet<>()).add(s.exitLayer()[r]);
                        all.addAll(s.gates().get(r));
                        if (s.exitLayer()[r] > shallowest[r]) {
                            kvSensitive.add(c.policy().kvPolicy());
                        }
                        shallowest[r] = Math.min(shallowest[r], s.exitLayer()[r]);
                    }
                } else if (call instanceof RecordingStepper.Reorder ro) {
                    int[] prev = shallowest;
                    shallowest = Arrays.stream(ro.parents()).map(p -> prev[p]).toArray();
                }
            }
            if (ref.run().scoring() != null) {
                ref.run().scoring().gates().forEach(all::addAll);
            }
            for (GateRecord g : all) {
                if (g.layer() >= min && Math.abs(g.similarity() - g.threshold()) < Tolerances.CLOSE_CALL) {
                    close.add(c.name() + " " + g);
                }
            }
        }
        List<String> placedClose = close.stream().filter(s -> s.contains("-cal-")).toList();
        assertTrue(placedClose.isEmpty(), "placed thresholds must leave a margin of " + Tolerances.CLOSE_CALL + ": "
                + placedClose);
        for (Stream s : Stream.values()) {
            assertTrue(exits.getOrDefault(s, Set.of()).size() >= 3, s + " exits at varied layers: " + exits.get(s));
        }
        assertEquals(Set.of(KvPolicy.values()), kvSensitive,
                "for every KV policy some case has a token going deeper than an earlier one exited");
    }

    @Test
    void minimumExitLayerHoldsEveryStreamBack() {
        TckCase c = TckCases.byName("s2-minlayer2-b5-beam3");
        CaseRun run = CaseRunner.reference(c).run();
        for (CaseRun.Example e : run.encoded()) {
            for (EncoderExit x : e.exits()) {
                assertEquals(2, x.exitLayer(), x.stream() + " exits at the minimum layer");
                assertFalse(x.gates().get(0).exit());
            }
        }
        for (RecordingStepper.Step s : run.steps()) {
            for (int r = 0; r < s.exitLayer().length; r++) {
                assertEquals(2, s.exitLayer()[r]);
            }
        }
    }

    @TestFactory
    java.util.stream.Stream<DynamicTest> badInputsAreRejected() {
        TckCase c = TckCases.byName("s2-full-b5-beam3");
        return BadInputs.checks(c).stream().map(check -> DynamicTest.dynamicTest(check.name(), () -> {
            try (ReferenceExecutable ex = new ReferenceExecutable(c.plan())) {
                assertNull(BadInputs.run(check, ex));
            }
        }));
    }
}
