package dev.mue.backend.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.StepOutput;
import dev.mue.planner.Planner;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;

/**
 * Exit branches really skip work (issue §2). A 6+6-layer model runs with every gate exiting after
 * layer 1 (threshold -1) and with none exiting (threshold 1): TensorFlow's own step statistics
 * (FULL_TRACE, which lists every node executed, inside the branch functions too) show that no op
 * of layers 2-6 ran in the first case and that they all ran in the second, and the measured cost
 * of an encoder pass and of a decoding step falls to a fraction of the full run's.
 */
class TfBranchSkippingTest {
    private static final Pattern LAYER_OP = Pattern.compile("\\b(enc|dec)_L(\\d+)/");
    private static final int LAYERS = 6;
    private static ModelConfig config;
    private static TfExecutable exit1;
    private static TfExecutable full;
    /** Gates below layer 2 disabled, threshold -1: every row exits after layer 2. */
    private static TfExecutable exit2;
    private static EncoderInput input;

    @BeforeAll
    static void prepare() {
        config = new ModelConfig("tf-deep", 128, LAYERS, LAYERS, 4, 512, TfFixture.VOCAB.size(), 40, 8, 4, 64,
                new ResNetConfig(4, 2, new int[] {1, 1, 1}), 2.0, 1e-5);
        Model m = TfFixture.model(config, 7);
        PlanShapes shapes = new PlanShapes(32, 12);
        exit1 = TfFixture.compiled(Planner.compile(m, ExitPolicy.builder().encoderThreshold(-1)
                .decoderThreshold(-1).kvPolicy(KvPolicy.PROPAGATE).build(), shapes));
        full = TfFixture.compiled(Planner.compile(m, ExitPolicy.full(), shapes));
        exit2 = TfFixture.compiled(Planner.compile(m, ExitPolicy.builder().decoderThreshold(-1).minExitLayer(2)
                .kvPolicy(KvPolicy.PROPAGATE).build(), shapes));
        input = TfFixture.input(config, 3, 30);
    }

    @AfterAll
    static void close() {
        exit1.close();
        full.close();
        exit2.close();
    }

    /** Layers (by stage) of the nodes that executed in one traced run. */
    private static Set<String> executedLayers(RunMetadata md) {
        Set<String> out = new TreeSet<>();
        for (DeviceStepStats d : md.getStepStats().getDevStatsList()) {
            for (NodeExecStats n : d.getNodeStatsList()) {
                Matcher m = LAYER_OP.matcher(n.getNodeName());
                if (m.find()) {
                    out.add(m.group(1) + m.group(2));
                }
            }
        }
        return out;
    }

    private static Set<String> traceEncode(TfExecutable ex) {
        RunMetadata[] md = new RunMetadata[1];
        ex.trace(m -> md[0] = m);
        try (EncodedBatch b = ex.encode(List.of(input))) {
            assertEquals(ex == exit1 ? 1 : LAYERS, b.exits(0).get(0).exitLayer());
        } finally {
            ex.trace(null);
        }
        return executedLayers(md[0]);
    }

    private static Set<String> traceStep(TfExecutable ex, int rows) {
        return traceStep(ex, rows, ex == exit1 ? 1 : ex == exit2 ? 2 : LAYERS);
    }

    /** The layers executed by the second step of {@code rows} rows (a beam of one example), each exiting at {@code exit}. */
    private static Set<String> traceStep(TfExecutable ex, int rows, int exit) {
        int[] tokens = new int[rows];
        try (EncodedBatch b = ex.encode(List.of(input)); DecoderStepper s = ex.decoder(b, new int[rows], 16)) {
            s.step(tokens);
            for (int r = 0; r < rows; r++) {
                tokens[r] = 5 + r;
            }
            RunMetadata[] md = new RunMetadata[1];
            ex.trace(m -> md[0] = m);
            try {
                StepOutput out = s.step(tokens);
                for (int r = 0; r < rows; r++) {
                    assertEquals(exit, out.exitLayer()[r], "row " + r);
                }
            } finally {
                ex.trace(null);
            }
            return executedLayers(md[0]);
        }
    }

    @Test
    void skippedLayersOpsNeverExecute() {
        Set<String> early = traceEncode(exit1);
        Set<String> all = traceEncode(full);
        assertEquals(Set.of("enc1"), early, "an encoder pass exiting after layer 1 executes only layer 1's ops");
        assertEquals(Set.of("enc1", "enc2", "enc3", "enc4", "enc5", "enc6"), all, "the full pass executes every layer");
        Set<String> earlyStep = traceStep(exit1, 1);
        Set<String> allStep = traceStep(full, 1);
        assertEquals(Set.of("dec1"), earlyStep, "a decoding step exiting after layer 1 executes only layer 1's ops");
        assertEquals(Set.of("dec1", "dec2", "dec3", "dec4", "dec5", "dec6"), allStep);
        System.out.printf("branch trace: exit after L1 ran %s (encoder pass) and %s (decoding step); full ran %s and %s%n",
                early, earlyStep, all, allStep);
    }

    /**
     * A batched step (5 rows) runs a level only if some row reaches it: when every row exits after
     * layer 1 (or, gates below layer 2 disabled, after layer 2), no op of a deeper layer executes.
     */
    @Test
    void aBatchedStepRunsNoLevelThatNoRowReaches() {
        assertEquals(Set.of("dec1"), traceStep(exit1, 5), "5 rows exiting after layer 1");
        assertEquals(Set.of("dec1", "dec2"), traceStep(exit2, 5), "5 rows exiting after layer 2");
        assertEquals(Set.of("dec1", "dec2", "dec3", "dec4", "dec5", "dec6"), traceStep(full, 5), "5 rows, full model");
    }

    @Test
    void earlyExitCostsAFractionOfTheFullRun() {
        double[] enc = fastest(() -> encodeOnce(exit1), () -> encodeOnce(full));
        double encEarly = enc[0];
        double encFull = enc[1];
        double[] step = fastestSteps();
        double stepEarly = step[0];
        double stepFull = step[1];
        System.out.printf("branch cost: encoder pass %.3f ms exiting after L1 vs %.3f ms full (ratio %.2f); "
                + "decoding step %.3f vs %.3f ms (ratio %.2f)%n", encEarly, encFull, encEarly / encFull, stepEarly,
                stepFull, stepEarly / stepFull);
        assertTrue(encEarly / encFull < 0.6, "encoder pass: exit after layer 1 of 6 costs " + encEarly + " ms, full "
                + encFull + " ms");
        // A decoding step keeps fixed costs (embedding, LM head, feeding and fetching every layer's
        // caches) and, under PROPAGATE, computes the skipped layers' keys and values: a looser bound.
        assertTrue(stepEarly / stepFull < 0.8, "decoding step: exit after layer 1 of 6 costs " + stepEarly
                + " ms, full " + stepFull + " ms");
    }

    private static void encodeOnce(TfExecutable ex) {
        try (EncodedBatch b = ex.encode(List.of(input))) {
            b.exits(0);
        }
    }

    /**
     * The fastest of 25 runs of each, interleaved so that load from other processes falls on both
     * alike; the minimum is the least noisy estimate of a run's own cost.
     */
    private static double[] fastest(Runnable a, Runnable b) {
        for (int i = 0; i < 5; i++) {
            a.run();
            b.run();
        }
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
        for (int i = 0; i < 25; i++) {
            long t0 = System.nanoTime();
            a.run();
            long t1 = System.nanoTime();
            b.run();
            long t2 = System.nanoTime();
            best[0] = Math.min(best[0], (t1 - t0) / 1e6);
            best[1] = Math.min(best[1], (t2 - t1) / 1e6);
        }
        return best;
    }

    /**
     * The fastest decoding step (4 rows, positions 0..9 of a fresh stepper) of each executable over
     * interleaved rounds, after a warm-up round.
     */
    private static double[] fastestSteps() {
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
        TfExecutable[] ex = {exit1, full};
        double[] threshold = {-1, 1};
        EncodedBatch[] enc = {exit1.encode(List.of(input)), full.encode(List.of(input))};
        try {
            for (int round = 0; round < 5; round++) {
                for (int k = 0; k < 2; k++) {
                    try (DecoderStepper s = ex[k].decoder(enc[k], new int[] {0, 0, 0, 0}, 16)) {
                        for (int step = 0; step < 10; step++) {
                            long t0 = System.nanoTime();
                            s.step(new int[] {4 + step, 5, 6, 7});
                            if (round > 0) {
                                best[k] = Math.min(best[k], (System.nanoTime() - t0) / 1e6);
                            }
                        }
                    }
                }
            }
        } finally {
            enc[0].close();
            enc[1].close();
        }
        return best;
    }
}
