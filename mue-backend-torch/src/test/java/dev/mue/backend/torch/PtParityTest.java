package dev.mue.backend.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.session.decode.BeamSearch;
import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.Model;
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
import dev.mue.runtime.Runtime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import dev.mue.tck.check.Tolerances;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The torch backend against the Java backend (its scalar control kernels) on seeded models: the
 * same exit decisions wherever the Java similarity is at least 1e-4 from the threshold, the same
 * similarities and hidden states up to float32 rounding, the same beam search results.
 */
class PtParityTest {
    private static final Model MODEL = PtFixture.model(5);
    /** Decisions closer than this to the threshold are close calls, as in the TCK. */
    private static final double MARGIN = Tolerances.CLOSE_CALL;
    /**
     * Two float32 implementations (Java's scalar control, libtorch's vectorised kernels) sum in
     * different orders and use different erf/exp kernels per CPU; the band is the TCK's band against
     * the float64 reference, relative to the vector's scale (about 1,700 unit roundoffs).
     */
    private static final double BETWEEN_IMPLEMENTATIONS = Tolerances.VECTOR;
    /**
     * Similarities of the two implementations: cosines computed in float64 from float32 states that
     * agree to {@link #BETWEEN_IMPLEMENTATIONS}; seen apart by at most about 1e-7 on AVX2 and AVX-512,
     * so a tenth of the TCK's band still leaves a hundredfold margin.
     */
    private static final double SIMILARITY = Tolerances.SIMILARITY / 10;

    private static void assertClose(float[] expected, float[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 0;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            double tol = rel * Math.max(1, scale);
            if (Math.abs(expected[i] - actual[i]) > tol) {
                throw new AssertionError(what + " at " + i + ": expected " + expected[i] + " got " + actual[i]
                        + " (tolerance " + tol + ")");
            }
        }
    }

    private static int assertSameGates(List<GateRecord> expected, List<GateRecord> actual, String what) {
        int close = 0;
        int n = Math.min(expected.size(), actual.size());
        for (int i = 0; i < n; i++) {
            GateRecord e = expected.get(i);
            GateRecord a = actual.get(i);
            assertEquals(e.stream(), a.stream(), what);
            assertEquals(e.layer(), a.layer(), what);
            assertEquals(e.similarity(), a.similarity(), SIMILARITY, what + " similarity at layer " + e.layer());
            if (Math.abs(e.similarity() - e.threshold()) < MARGIN) {
                close++;
                return close;
            }
            assertEquals(e.exit(), a.exit(), what + " decision at layer " + e.layer());
        }
        assertEquals(expected.size(), actual.size(), what + ": gates evaluated");
        return close;
    }

    static List<ExitPolicy> policies() {
        return List.of(ExitPolicy.full(),
                ExitPolicy.builder().imageThreshold(0.6).textThreshold(0.6).decoderThreshold(0.6).build(),
                ExitPolicy.builder().encoderMode(EncoderMode.JOINT).jointThreshold(0.6).decoderThreshold(0.6).build(),
                ExitPolicy.builder().imageThreshold(-1).textThreshold(-1).decoderThreshold(-1).build());
    }

    @Test
    void encoderOutputsAndExitsMatchTheJavaBackend() {
        List<EncoderInput> in = PtFixture.inputs(MODEL.config(), 5);
        for (ExitPolicy policy : policies()) {
            try (Executable jv = Runtime.prepare(PtFixture.java(), PtFixture.plan(MODEL, policy));
                    Executable pt = Runtime.prepare(PtFixture.torch(), PtFixture.plan(MODEL, policy));
                    EncodedBatch ej = jv.encode(in); EncodedBatch ep = pt.encode(in)) {
                for (int i = 0; i < in.size(); i++) {
                    assertEquals(ej.outputTokens(i), ep.outputTokens(i));
                    List<EncoderExit> xj = ej.exits(i);
                    List<EncoderExit> xp = ep.exits(i);
                    assertEquals(xj.size(), xp.size());
                    boolean closeCall = false;
                    for (int s = 0; s < xj.size(); s++) {
                        int close = assertSameGates(xj.get(s).gates(), xp.get(s).gates(),
                                policy.describe() + " example " + i + " " + xj.get(s).stream());
                        closeCall |= close > 0;
                        if (close == 0) {
                            assertEquals(xj.get(s).exitLayer(), xp.get(s).exitLayer());
                        }
                    }
                    if (!closeCall) {
                        assertClose(ej.output(i), ep.output(i), BETWEEN_IMPLEMENTATIONS, policy.describe() + " output " + i);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(KvPolicy.class)
    void decodingStepsMatchTheJavaBackendUnderEveryKvPolicy(KvPolicy kv) {
        List<EncoderInput> in = PtFixture.inputs(MODEL.config(), 3);
        // Thresholds that make early exits at varying layers, then full steps that attend to them.
        double[] th = {-1, 0.5, 1.0, 0.7, -1, 1.0, 0.6, 1.0};
        ExitPolicy policy = ExitPolicy.builder().kvPolicy(kv).decoderSchedule(new DecoderSchedule.Table(th)).build();
        int[] rows = {0, 1, 2, 2};
        try (Executable jv = Runtime.prepare(PtFixture.java(), PtFixture.plan(MODEL, policy));
                Executable pt = Runtime.prepare(PtFixture.torch(), PtFixture.plan(MODEL, policy));
                EncodedBatch ej = jv.encode(in); EncodedBatch ep = pt.encode(in);
                DecoderStepper sj = jv.decoder(ej, rows, th.length); DecoderStepper sp = pt.decoder(ep, rows, th.length)) {
            int exits = 0;
            for (int t = 0; t < th.length; t++) {
                int[] tokens = new int[rows.length];
                for (int r = 0; r < rows.length; r++) {
                    tokens[r] = t == 0 ? 0 : 4 + (t * 7 + r * 5) % (PtFixture.VOCAB.size() - 4);
                }
                StepOutput oj = sj.step(tokens);
                StepOutput op = sp.step(tokens);
                for (int r = 0; r < rows.length; r++) {
                    String what = kv + " step " + t + " row " + r;
                    int close = assertSameGates(oj.gates().get(r), op.gates().get(r), what);
                    assertEquals(0, close, what + ": a close call would make this test meaningless");
                    assertEquals(oj.exitLayer()[r], op.exitLayer()[r], what);
                    exits += oj.exitLayer()[r] < 3 ? 1 : 0;
                    assertClose(oj.logits()[r], op.logits()[r], BETWEEN_IMPLEMENTATIONS, what + " logits");
                }
                if (t == 3) {
                    int[] parents = {1, 1, 0, 3};
                    sj.reorder(parents);
                    sp.reorder(parents);
                }
            }
            assertTrue(exits > 4, "the feed makes early exits: " + exits);
        }
    }

    @Test
    void scoringMatchesTheJavaBackend() {
        List<EncoderInput> in = PtFixture.inputs(MODEL.config(), 3);
        int[][] seqs = {{0, 5, 6, 7}, {0, 5, 6, 8}, {0, 9, 10}, {0, 9, 11}, {0, 12, 13, 14, 15}, {0, 12, 13, 14, 16}};
        int[] rows = {0, 2, 1, 1, 2, 0};
        int[] first = {2, 2, 1, 1, 3, 3};
        for (double th : new double[] {1.0, 0.6, -1}) {
            ExitPolicy policy = ExitPolicy.builder().decoderThreshold(th).build();
            try (Executable jv = Runtime.prepare(PtFixture.java(), PtFixture.plan(MODEL, policy));
                    Executable pt = Runtime.prepare(PtFixture.torch(), PtFixture.plan(MODEL, policy));
                    EncodedBatch ej = jv.encode(in); EncodedBatch ep = pt.encode(in)) {
                ScoringOutput sj = jv.score(ej, rows, seqs, first);
                ScoringOutput sp = pt.score(ep, rows, seqs, first);
                assertArrayEquals(sj.exitLayer(), sp.exitLayer(), "threshold " + th);
                for (int e = 0; e < 3; e++) {
                    assertEquals(0, assertSameGates(sj.gates().get(e), sp.gates().get(e), "example " + e));
                }
                for (int r = 0; r < rows.length; r++) {
                    assertEquals(sj.logits()[r].length, sp.logits()[r].length);
                    for (int t = 0; t < sj.logits()[r].length; t++) {
                        assertClose(sj.logits()[r][t], sp.logits()[r][t], BETWEEN_IMPLEMENTATIONS, "row " + r + " position " + t);
                    }
                }
            }
        }
    }

    @Test
    void beamSearchGivesTheSameCaptionsAndExitTraces() {
        List<EncoderInput> in = PtFixture.inputs(MODEL.config(), 4);
        for (KvPolicy kv : KvPolicy.values()) {
            ExitPolicy policy = ExitPolicy.builder().imageThreshold(0.7).textThreshold(0.7)
                    .decoderSchedule(new DecoderSchedule.Fixed(0.75)).kvPolicy(kv).build();
            DecodingOptions beam = new DecodingOptions(3, 8, 3, 1.0);
            try (Executable jv = Runtime.prepare(PtFixture.java(), PtFixture.plan(MODEL, policy));
                    Executable pt = Runtime.prepare(PtFixture.torch(), PtFixture.plan(MODEL, policy));
                    EncodedBatch ej = jv.encode(in); EncodedBatch ep = pt.encode(in);
                    DecoderStepper sj = jv.decoder(ej, new int[] {0, 1, 2, 3}, beam.maxLength());
                    DecoderStepper sp = pt.decoder(ep, new int[] {0, 1, 2, 3}, beam.maxLength())) {
                List<BeamSearch.Hypothesis> hj = new BeamSearch(beam).run(sj, 4);
                List<BeamSearch.Hypothesis> hp = new BeamSearch(beam).run(sp, 4);
                List<Integer> exitLayers = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    assertArrayEquals(hj.get(i).tokens(), hp.get(i).tokens(), kv + " tokens of example " + i);
                    assertEquals(hj.get(i).score(), hp.get(i).score(), BETWEEN_IMPLEMENTATIONS * Math.max(1, Math.abs(hj.get(i).score())), kv + " score of example " + i);
                    assertEquals(hj.get(i).steps().size(), hp.get(i).steps().size());
                    for (int t = 0; t < hj.get(i).steps().size(); t++) {
                        assertEquals(hj.get(i).steps().get(t).exitLayer(), hp.get(i).steps().get(t).exitLayer(),
                                kv + " example " + i + " step " + t);
                        exitLayers.add(hj.get(i).steps().get(t).exitLayer());
                    }
                }
                assertTrue(exitLayers.stream().distinct().count() > 1, "decoder exits vary: " + exitLayers);
            }
        }
    }
}
