package dev.mue.backend.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.StepOutput;
import dev.mue.runtime.Runtime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A decoding step of R rows is one batched chain (issue 12, item 4) that decides each row's exits
 * on its own: row by row, it gives what R single-row steps give (exit layers, similarities,
 * logits), with rows of different examples (different encoder lengths, padded in the batch), rows
 * exiting at layer 1 beside rows going deeper, and beam reorders (repeated parents, a changing row
 * count) done in the graph; and, against the eager mode (the runtime deciding each gate and filling
 * each skipped layer on the host), the same exits and the same caches left for later steps.
 *
 * <p>Tolerances: the batched step multiplies {@code [R, d]} matrices and, for rows of different
 * examples, takes softmaxes over the longest example's keys (the padding weighs exactly 0) where a
 * single row multiplies {@code [1, d]} and sees its own keys only: the same sums in another order,
 * so float32 results may differ in their last bits. Logits may differ by {@link #LOGITS} relative
 * to their RMS (float32 epsilon is 1.2e-7; a few layers of accumulated rounding stay far below
 * 1e-5) and the float64 cosines of those float32 vectors by {@link #SIM}. The thresholds are put
 * halfway between measured similarities, far from both, so the decisions must be identical.
 */
class TfBatchedStepTest {
    private static final double LOGITS = 1e-5;
    private static final double SIM = 1e-6;
    private static final int HORIZON = 16;
    private static final Model MODEL = TfFixture.model(TfFixture.config(2, 4), 5);
    private static final ModelConfig C = MODEL.config();
    /** Three examples whose encoder outputs have 13, 20 and 25 tokens. */
    private static final List<EncoderInput> INPUTS = List.of(TfFixture.input(C, 31, 2), TfFixture.input(C, 32, 9),
            TfFixture.input(C, 33, 14));
    private static final int[] EXAMPLE_OF_ROW = {0, 2, 1, 2, 0};
    private static final int[][] TOKENS = {{0, 5, 9, 13, 17}, {5, 6, 7, 8, 9}, {10, 11, 12, 13, 14}, {15, 16, 17, 18, 19}};
    private static double threshold;

    /**
     * A threshold under which the first step's rows split: some exit after layer 1 while others
     * stay past layers 1 and 2. The step's similarities after layers 1 and 2 are measured on the
     * full model (at the first step they do not depend on the policy); the threshold is the
     * midpoint of the widest gap between them that splits the rows so.
     */
    @BeforeAll
    static void calibrate() {
        double[][] sims;
        try (TfExecutable full = TfFixture.compiled(TfFixture.plan(MODEL, ExitPolicy.full()));
                EncodedBatch b = full.encode(INPUTS); DecoderStepper s = full.decoder(b, EXAMPLE_OF_ROW, HORIZON)) {
            StepOutput out = s.step(TOKENS[0]);
            sims = out.gates().stream().map(g -> new double[] {g.get(0).similarity(), g.get(1).similarity()})
                    .toArray(double[][]::new);
        }
        double[] all = Arrays.stream(sims).flatMapToDouble(Arrays::stream).sorted().toArray();
        double best = Double.NaN;
        double gap = 0;
        for (int i = 0; i + 1 < all.length; i++) {
            double t = (all[i] + all[i + 1]) / 2;
            boolean exitsAt1 = Arrays.stream(sims).anyMatch(r -> r[0] > t);
            boolean goesDeep = Arrays.stream(sims).anyMatch(r -> r[0] < t && r[1] < t);
            if (exitsAt1 && goesDeep && all[i + 1] - all[i] > gap) {
                gap = all[i + 1] - all[i];
                best = t;
            }
        }
        assertTrue(gap > 1e-3, "the seeded model's first step has no threshold that splits its rows: "
                + Arrays.deepToString(sims));
        threshold = best;
    }

    private static ExitPolicy policy(KvPolicy kv) {
        return ExitPolicy.builder().decoderThreshold(threshold).kvPolicy(kv).build();
    }

    private static TfExecutable prepare(KvPolicy kv) {
        return TfFixture.compiled(TfFixture.plan(MODEL, policy(kv)));
    }

    /** The steps of one row alone: a one-row stepper for {@code example} fed {@code tokens}. */
    private static List<StepOutput> alone(TfExecutable ex, EncodedBatch b, int example, List<Integer> tokens) {
        List<StepOutput> out = new ArrayList<>();
        try (DecoderStepper s = ex.decoder(b, new int[] {example}, HORIZON)) {
            for (int t : tokens) {
                out.add(s.step(new int[] {t}));
            }
        }
        return out;
    }

    /** Row {@code row} of a batched step against the same step of that row alone. */
    private static void assertSameRow(StepOutput batch, int row, StepOutput single, String what) {
        assertEquals(single.exitLayer()[0], batch.exitLayer()[row], what + ": exit layer");
        List<GateRecord> a = batch.gates().get(row);
        List<GateRecord> b = single.gates().get(0);
        assertEquals(b.size(), a.size(), what + ": gates");
        for (int g = 0; g < a.size(); g++) {
            assertEquals(b.get(g).layer(), a.get(g).layer(), what);
            assertEquals(b.get(g).exit(), a.get(g).exit(), what + ": gate " + g);
            assertEquals(b.get(g).similarity(), a.get(g).similarity(), SIM, what + ": similarity after layer " + (g + 1));
        }
        float[] x = batch.logits()[row];
        float[] y = single.logits()[0];
        assertEquals(y.length, x.length, what);
        double ss = 0;
        double max = 0;
        for (int i = 0; i < x.length; i++) {
            ss += (double) y[i] * y[i];
            max = Math.max(max, Math.abs((double) x[i] - y[i]));
        }
        double rms = Math.sqrt(ss / y.length);
        assertTrue(max <= LOGITS * rms, what + ": logits differ by " + max + " (rms " + rms + ")");
    }

    @ParameterizedTest
    @EnumSource(KvPolicy.class)
    void rowsOfDifferentExamplesDecideAndComputeAsSingleRows(KvPolicy kv) {
        try (TfExecutable ex = prepare(kv); EncodedBatch b = ex.encode(INPUTS)) {
            List<StepOutput> batched = new ArrayList<>();
            try (DecoderStepper s = ex.decoder(b, EXAMPLE_OF_ROW, HORIZON)) {
                for (int[] t : TOKENS) {
                    batched.add(s.step(t));
                }
            }
            int[] first = batched.get(0).exitLayer();
            assertTrue(Arrays.stream(first).min().orElseThrow() == 1 && Arrays.stream(first).max().orElseThrow() >= 3,
                    "the first step has rows exiting after layer 1 beside rows going to layer 3 or deeper: "
                            + exitsOf(batched));
            // The eager mode: the same layer ops, each gate decided and each skipped layer filled by
            // the runtime on the host, so an independent check of which rows exit and what the
            // exits leave in the caches for the later steps.
            try (Executable eager = Runtime.prepare(TfFixture.eager(), TfFixture.plan(MODEL, policy(kv)));
                    EncodedBatch eb = eager.encode(INPUTS); DecoderStepper s = eager.decoder(eb, EXAMPLE_OF_ROW, HORIZON)) {
                for (int t = 0; t < TOKENS.length; t++) {
                    StepOutput out = s.step(TOKENS[t]);
                    for (int r = 0; r < EXAMPLE_OF_ROW.length; r++) {
                        assertSameRow(batched.get(t), r, rowOf(out, r), kv + ", eager, row " + r + ", step " + t);
                    }
                }
            }
            for (int r = 0; r < EXAMPLE_OF_ROW.length; r++) {
                List<Integer> tokens = new ArrayList<>();
                for (int[] t : TOKENS) {
                    tokens.add(t[r]);
                }
                List<StepOutput> single = alone(ex, b, EXAMPLE_OF_ROW[r], tokens);
                for (int t = 0; t < TOKENS.length; t++) {
                    assertSameRow(batched.get(t), r, single.get(t), kv + ", row " + r + ", step " + t);
                }
            }
        }
    }

    /** Row {@code r} of {@code out} as a one-row step output. */
    private static StepOutput rowOf(StepOutput out, int r) {
        return new StepOutput(new float[][] {out.logits()[r]}, new int[] {out.exitLayer()[r]}, List.of(out.gates().get(r)));
    }

    private static String exitsOf(List<StepOutput> steps) {
        return steps.stream().map(o -> Arrays.toString(o.exitLayer())).toList().toString();
    }

    /**
     * Reorders with repeated parents (and a row count that grows and shrinks), each followed by a
     * step: every row's step equals its lineage's tokens replayed alone. Rows of several examples
     * (their cross keys padded and gathered per row) and a beam of one example (shared).
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void reordersGatherTheCachesAsTheRowsHistoriesDictate(boolean beam) {
        int[][] parents = {{1, 1, 4, 0, 3, 3}, {5, 0, 0, 2}, {3, 3, 1}};
        int[] exampleOfRow = beam ? new int[] {1, 1, 1, 1, 1} : EXAMPLE_OF_ROW;
        try (TfExecutable ex = prepare(KvPolicy.PROPAGATE); EncodedBatch b = ex.encode(INPUTS)) {
            List<Integer> example = new ArrayList<>(Arrays.stream(exampleOfRow).boxed().toList());
            List<List<Integer>> history = new ArrayList<>();
            for (int r = 0; r < example.size(); r++) {
                history.add(new ArrayList<>());
            }
            int token = 20;
            try (DecoderStepper s = ex.decoder(b, exampleOfRow, HORIZON)) {
                for (int t = 0; t <= parents.length; t++) {
                    int[] tokens = new int[example.size()];
                    for (int r = 0; r < tokens.length; r++) {
                        tokens[r] = 4 + token++ % (C.vocabSize() - 4);
                        history.get(r).add(tokens[r]);
                    }
                    StepOutput out = s.step(tokens);
                    for (int r = 0; r < tokens.length; r++) {
                        List<StepOutput> single = alone(ex, b, example.get(r), history.get(r));
                        assertSameRow(out, r, single.get(t), "step " + t + ", row " + r + " " + history.get(r));
                    }
                    if (t == parents.length) {
                        break;
                    }
                    s.reorder(parents[t]);
                    assertEquals(parents[t].length, s.rows());
                    List<Integer> nextExample = new ArrayList<>();
                    List<List<Integer>> nextHistory = new ArrayList<>();
                    for (int p : parents[t]) {
                        nextExample.add(example.get(p));
                        nextHistory.add(new ArrayList<>(history.get(p)));
                    }
                    example = nextExample;
                    history = nextHistory;
                }
            }
        }
    }

    @Test
    void aParentOutOfRangeIsRefusedAndNoRowsRunNothing() {
        try (TfExecutable ex = prepare(KvPolicy.COPY); EncodedBatch b = ex.encode(INPUTS);
                DecoderStepper s = ex.decoder(b, new int[] {0, 1}, HORIZON)) {
            s.step(new int[] {0, 0});
            assertThrows(InvalidInputException.class, () -> s.reorder(new int[] {0, 2}));
            assertThrows(InvalidInputException.class, () -> s.reorder(new int[] {-1}));
            assertEquals(2, s.rows());
            StepOutput out = s.step(new int[] {5, 6});
            assertEquals(2, out.exitLayer().length);
            List<StepOutput> single = alone(ex, b, 1, List.of(0, 6));
            assertSameRow(out, 1, single.get(1), "row 1 after the refused reorders");
            // Every beam finished: no rows left, nothing to run, and a parent is out of range.
            s.reorder(new int[0]);
            assertEquals(0, s.step(new int[0]).exitLayer().length);
            assertThrows(InvalidInputException.class, () -> s.reorder(new int[] {0}));
        }
        try (TfExecutable ex = prepare(KvPolicy.COPY); EncodedBatch b = ex.encode(INPUTS);
                DecoderStepper s = ex.decoder(b, new int[0], HORIZON)) {
            assertEquals(0, s.rows());
            assertEquals(0, s.step(new int[0]).logits().length, "a decoder of no rows");
        }
    }
}
