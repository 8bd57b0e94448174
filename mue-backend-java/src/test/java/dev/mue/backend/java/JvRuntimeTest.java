package dev.mue.backend.java;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.session.decode.BeamSearch;
import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.Model;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.api.spi.StepOutput;
import dev.mue.api.spi.Prepared;
import dev.mue.api.layer.Workspace;
import dev.mue.api.plan.Plan;
import dev.mue.runtime.Runtime;
import dev.mue.api.text.Vocabulary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java backend's layer operations driven by the runtime, end to end: thresholds at the
 * extremes, batch == singles with mixed exits, scoring, the joint encoder, kernels and threads,
 * bad input, the schedule per step, and what the caches hold after each KV fill.
 */
class JvRuntimeTest {
    private static JvBackend backend;
    private static final Model MODEL = JvFixture.model(5);
    private static final int[] FEED = {Vocabulary.BOS, 7, 9, 12, 5, 30};

    @BeforeAll
    static void start() {
        backend = JvFixture.backend(2, "vector");
    }

    @AfterAll
    static void stop() {
        backend.close();
    }

    private static Executable prepare(Model m, ExitPolicy p) {
        return Runtime.prepare(backend, JvFixture.plan(m, p));
    }

    private static List<EncoderInput> inputs(int n) {
        List<EncoderInput> in = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            in.add(JvFixture.input(MODEL.config(), 100 + i, 2 + (i * 5) % 12));
        }
        return in;
    }

    /** Feeds the first {@code steps} tokens of a fixed sequence, horizon 8, and returns the per-step outputs. */
    private static List<StepOutput> feed(Executable ex, EncodedBatch enc, int[] rows, int steps) {
        List<StepOutput> outs = new ArrayList<>();
        try (DecoderStepper s = ex.decoder(enc, rows, 8)) {
            for (int t = 0; t < steps; t++) {
                int[] toks = new int[rows.length];
                Arrays.fill(toks, FEED[t]);
                outs.add(s.step(toks));
            }
        }
        return outs;
    }

    @Test
    void thresholdOneOnEveryGateIsTheFullModel() {
        ExitPolicy one = ExitPolicy.builder().encoderThreshold(1.0).decoderThreshold(1.0).build();
        ExitPolicy noGates = one.toBuilder().minExitLayer(99).build();
        try (Executable a = prepare(MODEL, one); Executable b = prepare(MODEL, noGates);
                EncodedBatch ea = a.encode(inputs(3)); EncodedBatch eb = b.encode(inputs(3))) {
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(eb.output(i), ea.output(i));
                for (EncoderExit e : ea.exits(i)) {
                    assertEquals(3, e.exitLayer(), e.stream() + " ran every layer");
                    assertEquals(2, e.gates().size());
                    assertFalse(e.gates().stream().anyMatch(GateRecord::exit));
                }
            }
            List<StepOutput> sa = feed(a, ea, new int[] {0, 1, 2}, 4);
            List<StepOutput> sb = feed(b, eb, new int[] {0, 1, 2}, 4);
            for (int t = 0; t < 4; t++) {
                for (int r = 0; r < 3; r++) {
                    assertArrayEquals(sb.get(t).logits()[r], sa.get(t).logits()[r]);
                    assertEquals(3, sa.get(t).exitLayer()[r]);
                }
            }
        }
    }

    @Test
    void thresholdMinusOneExitsAfterTheFirstLayerAndEqualsAOneLayerModel() {
        ExitPolicy minus = ExitPolicy.builder().encoderThreshold(-1).decoderThreshold(-1).build();
        Model oneLayer = JvFixture.truncated(MODEL, 1);
        try (Executable a = prepare(MODEL, minus); Executable b = prepare(oneLayer, ExitPolicy.full());
                EncodedBatch ea = a.encode(inputs(3)); EncodedBatch eb = b.encode(inputs(3))) {
            for (int i = 0; i < 3; i++) {
                for (EncoderExit e : ea.exits(i)) {
                    assertEquals(1, e.exitLayer());
                    assertTrue(e.gates().get(0).exit());
                }
                assertArrayEquals(eb.output(i), ea.output(i));
            }
            List<StepOutput> sa = feed(a, ea, new int[] {0, 1, 2}, 5);
            List<StepOutput> sb = feed(b, eb, new int[] {0, 1, 2}, 5);
            for (int t = 0; t < 5; t++) {
                for (int r = 0; r < 3; r++) {
                    assertEquals(1, sa.get(t).exitLayer()[r]);
                    assertArrayEquals(sb.get(t).logits()[r], sa.get(t).logits()[r], "step " + t + " row " + r);
                }
            }
        }
    }

    /** The median of the similarities that layer-1 gates of {@code stream} measured. */
    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    @Test
    void batchOfEightWithMixedExitLayersEqualsEightSingleRunsBitwise() {
        List<EncoderInput> in = inputs(8);
        // Probe the full model's similarities to place thresholds between them.
        List<Double> img = new ArrayList<>();
        List<Double> txt = new ArrayList<>();
        List<Double> dec = new ArrayList<>();
        try (Executable probe = prepare(MODEL, ExitPolicy.full()); EncodedBatch e = probe.encode(in)) {
            for (int i = 0; i < 8; i++) {
                img.add(e.exits(i).get(0).gates().get(0).similarity());
                txt.add(e.exits(i).get(1).gates().get(1).similarity());
            }
            int[] rows = {0, 1, 2, 3, 4, 5, 6, 7};
            for (StepOutput o : feed(probe, e, rows, 4)) {
                for (List<GateRecord> g : o.gates()) {
                    dec.add(g.get(0).similarity());
                }
            }
        }
        ExitPolicy mixed = ExitPolicy.builder().imageThreshold(median(img)).textThreshold(median(txt))
                .decoderThreshold(median(dec)).kvPolicy(KvPolicy.PROPAGATE).build();
        try (Executable ex = prepare(MODEL, mixed); EncodedBatch batch = ex.encode(in)) {
            Set<Integer> imageExits = new HashSet<>();
            Set<Integer> textExits = new HashSet<>();
            DecodingOptions beam = new DecodingOptions(3, 8, 3, 1.0);
            List<BeamSearch.Hypothesis> batchHyps;
            try (DecoderStepper s = ex.decoder(batch, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, beam.maxLength())) {
                batchHyps = new BeamSearch(beam).run(s, 8);
            }
            Set<Integer> decoderExits = new HashSet<>();
            for (int i = 0; i < 8; i++) {
                try (EncodedBatch single = ex.encode(List.of(in.get(i)))) {
                    assertEquals(single.exits(0), batch.exits(i), "exits of example " + i);
                    assertArrayEquals(single.output(0), batch.output(i), "encoder output of example " + i);
                    imageExits.add(batch.exits(i).get(0).exitLayer());
                    textExits.add(batch.exits(i).get(1).exitLayer());
                    try (DecoderStepper s = ex.decoder(single, new int[] {0}, beam.maxLength())) {
                        BeamSearch.Hypothesis h = new BeamSearch(beam).run(s, 1).get(0);
                        assertArrayEquals(h.tokens(), batchHyps.get(i).tokens(), "tokens of example " + i);
                        assertEquals(h.score(), batchHyps.get(i).score(), 0.0, "score of example " + i);
                        assertEquals(h.steps(), batchHyps.get(i).steps(), "decoder exits of example " + i);
                        h.steps().forEach(st -> decoderExits.add(st.exitLayer()));
                    }
                }
            }
            assertTrue(imageExits.size() > 1, "image exits vary: " + imageExits);
            assertTrue(textExits.size() > 1, "text exits vary: " + textExits);
            assertTrue(decoderExits.size() > 1, "decoder exits vary: " + decoderExits);
        }
    }

    @Test
    void concurrentPassesOnOnePreparedPlanGiveTheBitsOfOneAlone() throws Exception {
        // The backend recycles its large arrays between passes (poisoned with NaN in these tests):
        // passes running at once, and passes after them, must still see only their own data.
        List<EncoderInput> in = inputs(3);
        ExitPolicy p = ExitPolicy.builder().decoderThreshold(0.5).build();
        int[][] seqs = {{0, 5, 6, 7}, {0, 9, 10}, {0, 12, 13, 14}};
        int[] rows = {0, 1, 2};
        int[] first = {2, 1, 3};
        try (Executable ex = prepare(MODEL, p)) {
            float[][][] reference;
            float[][] outputs = new float[3][];
            try (EncodedBatch batch = ex.encode(in)) {
                reference = ex.score(batch, rows, seqs, first).logits();
                for (int e = 0; e < 3; e++) {
                    outputs[e] = batch.output(e);
                }
            }
            java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(3);
            try {
                List<java.util.concurrent.Future<?>> jobs = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    jobs.add(threads.submit(() -> {
                        for (int r = 0; r < 4; r++) {
                            try (EncodedBatch batch = ex.encode(in)) {
                                for (int e = 0; e < 3; e++) {
                                    assertArrayEquals(outputs[e], batch.output(e), "encoder output " + e);
                                }
                                float[][][] logits = ex.score(batch, rows, seqs, first).logits();
                                for (int k = 0; k < 3; k++) {
                                    for (int i = 0; i < logits[k].length; i++) {
                                        assertArrayEquals(reference[k][i], logits[k][i], "row " + k + " token " + i);
                                    }
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> f : jobs) {
                    f.get(120, java.util.concurrent.TimeUnit.SECONDS);
                }
            } finally {
                threads.shutdownNow();
            }
        }
    }

    @Test
    void scoringABatchEqualsSingleExamples() {
        List<EncoderInput> in = inputs(3);
        ExitPolicy p = ExitPolicy.builder().decoderThreshold(0.5).build();
        int[][] seqs = {{0, 5, 6, 7}, {0, 5, 6, 8}, {0, 9, 10}, {0, 9, 11}, {0, 12, 13, 14, 15}, {0, 12, 13, 14, 16}};
        int[] rows = {0, 0, 1, 1, 2, 2};
        int[] first = {2, 2, 1, 1, 3, 3};
        try (Executable ex = prepare(MODEL, p); EncodedBatch batch = ex.encode(in)) {
            ScoringOutput all = ex.score(batch, rows, seqs, first);
            for (int e = 0; e < 3; e++) {
                try (EncodedBatch single = ex.encode(List.of(in.get(e)))) {
                    ScoringOutput one = ex.score(single, new int[] {0, 0},
                            new int[][] {seqs[2 * e], seqs[2 * e + 1]}, new int[] {first[2 * e], first[2 * e + 1]});
                    assertEquals(one.exitLayer()[0], all.exitLayer()[e]);
                    assertEquals(one.gates().get(0), all.gates().get(e));
                    for (int k = 0; k < 2; k++) {
                        for (int t = 0; t < one.logits()[k].length; t++) {
                            assertArrayEquals(one.logits()[k][t], all.logits()[2 * e + k][t]);
                        }
                    }
                }
            }
        }
    }

    /**
     * Candidate answers after one prompt (visual entailment's scoring): the rows they share are
     * computed once, and every row's logits are the bits of scoring its sequence alone, whether it
     * shares all but its last token, a shorter prefix, its whole sequence, or nothing (a sequence of
     * another example with the same tokens, whose encoder output differs). Examples 0 and 1 have rows
     * few enough to attend through their encoder output, alone and together; example 2's are not.
     */
    @Test
    void sharedPrefixesGiveTheBitsOfEachSequenceScoredAlone() {
        List<EncoderInput> in = inputs(3);
        int[][] seqs = {{0, 5, 6, 7}, {0, 5, 6, 8}, {0, 5, 9}, {0, 5, 6, 7}, {0, 5, 6, 7},
            {0, 5, 6, 7, 8, 9, 10, 11, 12, 13}, {0, 5, 6, 7, 8, 9, 10, 11, 12, 14}};
        int[] rows = {0, 0, 0, 0, 1, 2, 2};
        int[] first = {2, 2, 1, 2, 2, 8, 8};
        int d = MODEL.config().dModel();
        int heads = MODEL.config().heads();
        try (Executable ex = prepare(MODEL, ExitPolicy.full()); EncodedBatch batch = ex.encode(in)) {
            // Distinct rows: example 0, 4 + 1 + 1 + 0; example 1, 4; example 2, 10 alone, 11 together.
            assertTrue(JvLayerOps.attendsThroughMemory(batch.outputTokens(0), 6, d, heads));
            assertTrue(JvLayerOps.attendsThroughMemory(batch.outputTokens(1), 4, d, heads));
            assertFalse(JvLayerOps.attendsThroughMemory(batch.outputTokens(2), 10, d, heads));
            ScoringOutput all = ex.score(batch, rows, seqs, first);
            for (int r = 0; r < seqs.length; r++) {
                ScoringOutput one = ex.score(batch, new int[] {rows[r]}, new int[][] {seqs[r]}, new int[] {first[r]});
                assertEquals(seqs[r].length - first[r], all.logits()[r].length);
                for (int t = 0; t < one.logits()[0].length; t++) {
                    assertArrayEquals(one.logits()[0][t], all.logits()[r][t], "row " + r + " position " + t);
                }
            }
            // The same-token sequence of the other example is not taken for a copy.
            assertFalse(Arrays.equals(all.logits()[0][0], all.logits()[4][0]));
        }
    }

    /**
     * A scoring pass attends through the encoder output where its rows are few, and to the
     * cross-attention keys and values otherwise, as stepping always does: the logits of a sequence
     * scored either way agree with stepping it, within float32 rounding of the same sums taken in
     * another order: 7e-7 here, on logits of order 1. The bound, 1e-5 absolute or relative to
     * larger logits, leaves a margin of ten; dropping the value bias moves them by 4e-3.
     */
    @Test
    void scoringThroughTheEncoderOutputAgreesWithStepping() {
        int d = MODEL.config().dModel();
        int heads = MODEL.config().heads();
        try (Executable ex = prepare(MODEL, ExitPolicy.full()); EncodedBatch enc = ex.encode(inputs(1))) {
            int tokens = enc.outputTokens(0);
            int steps = 5;
            List<StepOutput> stepped = feed(ex, enc, new int[] {0}, steps);
            int[] seq = Arrays.copyOf(FEED, steps);
            assertTrue(JvLayerOps.attendsThroughMemory(tokens, steps, d, heads));
            float[][] few = ex.score(enc, new int[] {0}, new int[][] {seq}, new int[] {0}).logits()[0];
            // Three more sequences of the example that share only bos: too many rows to attend through it.
            int[][] many = {seq, {0, 20, 21, 22, 23}, {0, 24, 4, 6, 8}, {0, 10, 11, 13, 14}};
            assertFalse(JvLayerOps.attendsThroughMemory(tokens, steps + 3 * (steps - 1), d, heads));
            float[][] keyed = ex.score(enc, new int[] {0, 0, 0, 0}, many, new int[4]).logits()[0];
            for (int t = 0; t < steps; t++) {
                float[] s = stepped.get(t).logits()[0];
                for (int v = 0; v < s.length; v++) {
                    double tol = 1e-5 * Math.max(1, Math.abs(s[v]));
                    assertEquals(s[v], few[t][v], tol, "through the encoder output, position " + t + " token " + v);
                    assertEquals(s[v], keyed[t][v], tol, "through keys and values, position " + t + " token " + v);
                }
            }
        }
    }

    @Test
    void kvFillsPutTheRightEntryIntoTheSkippedLayers() {
        Plan plan = JvFixture.plan(MODEL, ExitPolicy.full());
        JvLayerOps ops = (JvLayerOps) ((Prepared.Interpreted) backend.prepare(plan)).ops();
        JvMemory memory = ops.encoderOutput(Workspace.none(),
                ops.embedImages(Workspace.none(), List.of(inputs(1).get(0).image())));
        JvCaches caches = ops.caches(Workspace.none(), 2, 12);
        JvStates x = ops.embedDecoder(Workspace.none(), new int[][] {{Vocabulary.BOS}, {7}});
        ops.prepareCross(memory, 1, new int[] {0});
        JvStates y = ops.decoderStep(Workspace.none(), 1, x, caches, new int[] {0, 1}, new int[] {0, 0}, memory,
                new int[] {0, 0});
        // COPY: layer 3 gets exactly layer 1's entry for the position (the same arrays: entries are immutable).
        ops.copyKv(caches, 3, 1, new int[] {0}, new int[] {0});
        JvCaches.Entry l1 = caches.rows[0].head(1);
        JvCaches.Entry l3 = caches.rows[0].head(3);
        assertEquals(1, caches.rows[0].count(3));
        assertEquals(0, l3.position());
        assertArrayEquals(l1.k(), l3.k());
        assertArrayEquals(l1.v(), l3.v());
        // PROPAGATE: layer 2 computes its own entry from the exit state, which differs from layer 1's.
        ops.propagateKv(Workspace.none(), caches, 2, new int[] {1}, new int[] {0},
                ops.gather(Workspace.none(), List.of(y), new int[] {0}, new int[] {1}));
        JvCaches.Entry l2 = caches.rows[1].head(2);
        assertEquals(1, caches.rows[1].count(2));
        assertEquals(0, l2.position());
        assertFalse(Arrays.equals(caches.rows[1].head(1).k(), l2.k()));
        // Untouched layers hold nothing (OMIT is the absence of a fill).
        assertEquals(0, caches.rows[1].count(3));
        assertEquals(0, caches.rows[0].count(2));
        // A reorder that duplicates a row gives independent rows: appending to one child leaves the other alone.
        JvCaches r = ops.reorder(caches, new int[] {0, 0});
        ops.copyKv(r, 2, 1, new int[] {1}, new int[] {0});
        assertEquals(1, r.rows[1].count(2));
        assertEquals(0, r.rows[0].count(2));
    }

    /**
     * Beam reordering shares the caches (design §4, issue 12 item 3): duplicated rows hold the very
     * same key and value arrays as their parent, at every layer, and no float is copied; later
     * appends go to one child only, and attention over the shared entries gives the results of
     * unshared ones.
     */
    @Test
    void reorderSharesEveryLayersEntriesAndCopiesNoFloat() {
        Plan plan = JvFixture.plan(MODEL, ExitPolicy.full());
        JvLayerOps ops = (JvLayerOps) ((Prepared.Interpreted) backend.prepare(plan)).ops();
        JvMemory memory = ops.encoderOutput(Workspace.none(),
                ops.embedImages(Workspace.none(), List.of(inputs(1).get(0).image())));
        int layers = MODEL.config().decoderLayers();
        for (int l = 1; l <= layers; l++) {
            ops.prepareCross(memory, l, new int[] {0});
        }
        JvCaches caches = ops.caches(Workspace.none(), 2, 12);
        int[] toks = {Vocabulary.BOS, 7, 9, 12};
        // Two rows fed the same tokens, one position at a time, through every layer.
        for (int t = 0; t < 3; t++) {
            JvStates x = ops.embedDecoder(Workspace.none(), new int[][] {{toks[t]}, {toks[t]}});
            for (int l = 1; l <= layers; l++) {
                x = ops.decoderStep(Workspace.none(), l, x, caches, new int[] {0, 1}, new int[] {t, t}, memory,
                        new int[] {0, 0});
            }
        }
        // Row 0 branches into three beams; row 1 is dropped.
        JvCaches r = ops.reorder(caches, new int[] {0, 0, 0});
        for (int l = 1; l <= layers; l++) {
            JvCaches.Entry parent = caches.rows[0].head(l);
            for (int b = 0; b < 3; b++) {
                assertSame(parent, r.rows[b].head(l), "layer " + l + " beam " + b + " shares the parent's entries");
                for (JvCaches.Entry e = r.rows[b].head(l), p = parent; e != null; e = e.previous(),
                        p = p.previous()) {
                    assertSame(p.k(), e.k());
                    assertSame(p.v(), e.v());
                }
            }
        }
        // Step 3 on the three beams (different tokens), and with beam 0's token on row 1 of the old
        // caches, which the reorder dropped: it computed the same entries as row 0, unshared.
        JvStates x = ops.embedDecoder(Workspace.none(), new int[][] {{toks[3]}, {5}, {6}});
        JvStates ref = ops.embedDecoder(Workspace.none(), new int[][] {{toks[3]}});
        for (int l = 1; l <= layers; l++) {
            x = ops.decoderStep(Workspace.none(), l, x, r, new int[] {0, 1, 2}, new int[] {3, 3, 3}, memory,
                    new int[] {0, 0, 0});
            ref = ops.decoderStep(Workspace.none(), l, ref, caches, new int[] {1}, new int[] {3}, memory,
                    new int[] {0});
        }
        int d = MODEL.config().dModel();
        assertArrayEquals(ref.data(), Arrays.copyOf(x.data(), d),
                "beam 0 over shared entries equals row 1 over its own");
        for (int l = 1; l <= layers; l++) {
            assertEquals(4, r.rows[0].count(l));
            assertNotSame(r.rows[0].head(l), r.rows[1].head(l));
            assertSame(r.rows[0].head(l).previous(), r.rows[1].head(l).previous(), "history still shared");
            assertFalse(Arrays.equals(r.rows[0].head(l).k(), r.rows[1].head(l).k()));
        }
    }

    @Test
    void kvPolicyDecidesWhatDeeperLayersSeeOfAnEarlyExit() {
        // Step 0 exits after layer 1 (threshold -1); later steps run every layer and attend to it.
        DecoderSchedule early = new DecoderSchedule.Table(new double[] {-1, 1.0});
        List<float[]> step2 = new ArrayList<>();
        List<float[]> step0 = new ArrayList<>();
        for (KvPolicy kv : KvPolicy.values()) {
            ExitPolicy p = ExitPolicy.builder().kvPolicy(kv).decoderSchedule(early).build();
            try (Executable ex = prepare(MODEL, p); EncodedBatch enc = ex.encode(inputs(1))) {
                List<StepOutput> o = feed(ex, enc, new int[] {0}, 4);
                assertEquals(1, o.get(0).exitLayer()[0]);
                assertEquals(3, o.get(2).exitLayer()[0]);
                step0.add(o.get(0).logits()[0]);
                step2.add(o.get(2).logits()[0]);
            }
        }
        assertArrayEquals(step0.get(0), step0.get(1));
        assertArrayEquals(step0.get(0), step0.get(2));
        for (int a = 0; a < 3; a++) {
            for (int b = a + 1; b < 3; b++) {
                assertFalse(Arrays.equals(step2.get(a), step2.get(b)),
                        KvPolicy.values()[a] + " and " + KvPolicy.values()[b] + " must differ after an early exit");
            }
        }
        // Without exits the policies coincide.
        List<float[]> full = new ArrayList<>();
        for (KvPolicy kv : KvPolicy.values()) {
            try (Executable ex = prepare(MODEL, ExitPolicy.builder().kvPolicy(kv).build());
                    EncodedBatch enc = ex.encode(inputs(1))) {
                full.add(feed(ex, enc, new int[] {0}, 3).get(2).logits()[0]);
            }
        }
        assertArrayEquals(full.get(0), full.get(1));
        assertArrayEquals(full.get(0), full.get(2));
    }

    @Test
    void jointEncoderIsOneStreamOverImageAndText() {
        ExitPolicy joint = ExitPolicy.builder().encoderMode(EncoderMode.JOINT).build();
        try (Executable j = prepare(MODEL, joint); Executable dcp = prepare(MODEL, ExitPolicy.full());
                EncodedBatch ej = j.encode(inputs(2)); EncodedBatch ed = dcp.encode(inputs(2))) {
            List<EncoderExit> exits = ej.exits(1);
            assertEquals(1, exits.size());
            assertEquals(Stream.JOINT, exits.get(0).stream());
            assertEquals(ed.outputTokens(1), ej.outputTokens(1));
            assertFalse(Arrays.equals(ed.output(1), ej.output(1)), "cross-modal attention changes the output");
        }
    }

    @Test
    void threadCountAndKernelChoiceDoNotChangeResultsBeyondRounding() {
        ExitPolicy p = ExitPolicy.full();
        try (JvBackend one = JvFixture.backend(1, "vector"); JvBackend naive = JvFixture.backend(1, "naive");
                Executable a = Runtime.prepare(backend, JvFixture.plan(MODEL, p));
                Executable b = Runtime.prepare(one, JvFixture.plan(MODEL, p));
                Executable c = Runtime.prepare(naive, JvFixture.plan(MODEL, p));
                EncodedBatch ea = a.encode(inputs(2)); EncodedBatch eb = b.encode(inputs(2));
                EncodedBatch ec = c.encode(inputs(2))) {
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(eb.output(i), ea.output(i), "2 threads vs 1 thread: bitwise");
                float[] x = ea.output(i);
                float[] y = ec.output(i);
                for (int k = 0; k < x.length; k++) {
                    assertEquals(y[k], x[k], 1e-4, "vector vs naive kernels at " + k);
                }
            }
        }
    }

    /**
     * The Winograd convolutions of a wide backbone against the naive kernels' exact ones, through the
     * whole encoder: within float rounding of the same pass, and the same bits on one thread and two.
     */
    @Test
    void winogradBackboneMatchesTheNaiveKernelsBeyondRounding() {
        Model wide = JvFixture.wideBackboneModel(5);
        ExitPolicy p = ExitPolicy.full();
        List<EncoderInput> in = List.of(JvFixture.input(wide.config(), 7, 3), JvFixture.input(wide.config(), 8, 6));
        try (JvBackend one = JvFixture.backend(1, "vector"); JvBackend naive = JvFixture.backend(1, "naive");
                Executable a = Runtime.prepare(backend, JvFixture.plan(wide, p));
                Executable b = Runtime.prepare(one, JvFixture.plan(wide, p));
                Executable c = Runtime.prepare(naive, JvFixture.plan(wide, p));
                EncodedBatch ea = a.encode(in); EncodedBatch eb = b.encode(in); EncodedBatch ec = c.encode(in)) {
            for (int i = 0; i < in.size(); i++) {
                assertArrayEquals(eb.output(i), ea.output(i), "2 threads vs 1 thread: bitwise");
                float[] x = ea.output(i);
                float[] y = ec.output(i);
                // Outputs of the final LayerNorm, of order 1: the two differ by about 5e-6 here (a few
                // hundred float ulps of rounding through eight convolutions and a layer), 20 times
                // below the bound; a wrong sign in one transform makes it 0.6.
                for (int k = 0; k < x.length; k++) {
                    assertEquals(y[k], x[k], 1e-4, "vector (Winograd) vs naive kernels at " + k);
                }
            }
        }
    }

    @Test
    void badInputsAreRejectedWithTheDocumentedException() {
        try (Executable ex = prepare(MODEL, ExitPolicy.full())) {
            EncoderInput good = JvFixture.input(MODEL.config(), 1, 3);
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> ex.encode(List.of(new EncoderInput(new float[10], good.tokens()))));
            assertTrue(e.getMessage().contains("expected 3x48x48"), e.getMessage());
            e = assertThrows(InvalidInputException.class,
                    () -> ex.encode(List.of(new EncoderInput(good.image(), new int[] {0, 99999, 2}))));
            assertTrue(e.getMessage().contains("99999"), e.getMessage());
            e = assertThrows(InvalidInputException.class,
                    () -> ex.encode(List.of(new EncoderInput(good.image(), new int[17]))));
            assertTrue(e.getMessage().contains("limit 16"), e.getMessage());
            assertThrows(InvalidInputException.class, () -> ex.encode(List.of()));
            try (EncodedBatch enc = ex.encode(List.of(good)); DecoderStepper s = ex.decoder(enc, new int[] {0}, 16)) {
                assertThrows(InvalidInputException.class, () -> s.step(new int[] {1, 2}));
                for (int t = 0; t < 12; t++) {
                    s.step(new int[] {5});
                }
                e = assertThrows(InvalidInputException.class, () -> s.step(new int[] {5}));
                assertTrue(e.getMessage().contains("12 decoder positions"), e.getMessage());
                assertThrows(InvalidInputException.class, () -> ex.decoder(enc, new int[] {1}, 16));
                assertThrows(InvalidInputException.class, () -> ex.decoder(enc, new int[] {0}, 0));
            }
        }
    }

    @Test
    void decoderThresholdScheduleIsHonouredPerStep() {
        ExitPolicy p = ExitPolicy.builder().decoderSchedule(new DecoderSchedule.ReferenceDecay(-1)).build();
        try (Executable ex = prepare(MODEL, p); EncodedBatch enc = ex.encode(inputs(1))) {
            // N = 8: steps 0..2 have threshold 1 (no exit); later ones 0.9*(-1)+... < 0 (exit at layer 1)
            List<StepOutput> o = feed(ex, enc, new int[] {0}, 5);
            DecoderSchedule s = p.decoderSchedule();
            for (int t = 0; t < 5; t++) {
                assertEquals(s.threshold(t, 8), o.get(t).gates().get(0).get(0).threshold(), 0.0, "step " + t);
            }
            assertEquals(3, o.get(0).exitLayer()[0]);
            assertEquals(3, o.get(2).exitLayer()[0]);
            assertEquals(1, o.get(3).exitLayer()[0]);
            assertEquals(1, o.get(4).exitLayer()[0]);
        }
    }
}
