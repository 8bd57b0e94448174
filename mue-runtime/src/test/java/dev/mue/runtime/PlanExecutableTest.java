package dev.mue.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.exit.GateMeasure;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanShapes;
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
import dev.mue.api.text.Vocabulary;
import dev.mue.planner.Planner;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The runtime's control over scripted layer operations: which members reach which layer, where
 * each exits, what the skipped layers are given, which thresholds apply, what is prepared once.
 */
class PlanExecutableTest {
    static final Vocabulary VOCAB = Vocabulary.fromCorpus(List.of("a shoe and a bag", "yes", "no", "maybe"), 60);
    static final ModelConfig CONFIG = new ModelConfig("rt-test", 8, 3, 3, 2, 16, VOCAB.size(), 16, 8, 4, 32,
            new ResNetConfig(4, 4, new int[] {1, 1, 1}), 2.0, 1e-5);
    static final Model MODEL = new Model(CONFIG, RandomWeights.generate(CONFIG, 1), VOCAB, "rt-test");

    static Plan plan(ExitPolicy p) {
        return Planner.compile(MODEL, p, new PlanShapes(8, 8));
    }

    static List<EncoderInput> inputs(int n) {
        List<EncoderInput> in = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            in.add(new EncoderInput(new float[3 * 32 * 32], new int[] {0, 5 + i, 2}));
        }
        return in;
    }

    @Test
    void encoderMembersExitWhereTheScriptSaysAndLaterLayersRunOnlyTheOthers() {
        // image: example 0 exits after layer 1, example 1 after layer 2, example 2 runs all 3 layers
        ScriptedOps ops = new ScriptedOps((m, s, layer, member) -> s == Stream.IMAGE && member == layer - 1 ? 0.9 : 0.1,
                VOCAB.size());
        ExitPolicy p = ExitPolicy.builder().imageThreshold(0.5).textThreshold(0.5).build();
        try (Executable ex = Runtime.interpret(plan(p), ops); EncodedBatch b = ex.encode(inputs(3))) {
            assertTrue(ops.log.contains("enc image L1 [0, 1, 2]"), ops.log.toString());
            assertTrue(ops.log.contains("enc image L2 [1, 2]"), ops.log.toString());
            assertTrue(ops.log.contains("enc image L3 [2]"), ops.log.toString());
            assertTrue(ops.log.contains("enc text L3 [0, 1, 2]"), ops.log.toString());
            for (int i = 0; i < 3; i++) {
                EncoderExit image = b.exits(i).get(0);
                assertEquals(Stream.IMAGE, image.stream());
                assertEquals(i + 1, image.exitLayer());
                assertEquals(Math.min(i + 1, 2), image.gates().size(), "gates run by example " + i);
                assertEquals(i < 2, image.gates().get(image.gates().size() - 1).exit());
                assertEquals(3, b.exits(i).get(1).exitLayer());
                assertEquals(4 + 3, b.outputTokens(i));
                // The join merged the exits back in example order, each with its own last layer.
                assertArrayEquals(new float[] {i + 1}, b.output(i), "the image part is the image stream's exit state");
            }
            assertTrue(ops.log.contains("output [0, 1, 2] tokens [7, 7, 7]"), ops.log.toString());
        }
    }

    @Test
    void aGateBelowTheMinimumLayerIsMeasuredAndRecordedButNotTaken() {
        ScriptedOps ops = new ScriptedOps((m, s, layer, member) -> 0.9, VOCAB.size());
        ExitPolicy p = ExitPolicy.builder().encoderThreshold(0.5).minExitLayer(2).build();
        try (Executable ex = Runtime.interpret(plan(p), ops); EncodedBatch b = ex.encode(inputs(1))) {
            EncoderExit image = b.exits(0).get(0);
            assertEquals(2, image.exitLayer());
            assertEquals(List.of(false, true), image.gates().stream().map(GateRecord::exit).toList());
            assertEquals(0.9, image.gates().get(0).similarity());
        }
    }

    @Test
    void theJointEncoderConcatenatesImageAndTextIntoOneStream() {
        ScriptedOps ops = new ScriptedOps((m, s, layer, member) -> layer == 2 ? 0.9 : 0.1, VOCAB.size());
        ExitPolicy p = ExitPolicy.builder().encoderMode(EncoderMode.JOINT).jointThreshold(0.5).build();
        try (Executable ex = Runtime.interpret(plan(p), ops); EncodedBatch b = ex.encode(inputs(2))) {
            assertEquals(1, b.exits(0).size());
            EncoderExit joint = b.exits(1).get(0);
            assertEquals(Stream.JOINT, joint.stream());
            assertEquals(2, joint.exitLayer());
            assertEquals(4 + 3, joint.tokens());
            assertFalse(ops.log.stream().anyMatch(l -> l.startsWith("enc joint L3")), ops.log.toString());
        }
    }

    /** Runs {@code steps} steps of two rows of one example; row 0 exits after layer 1 at step 0. */
    private static ScriptedOps decodeWith(KvPolicy kv) {
        ScriptedOps ops = new ScriptedOps((m, s, layer, member) -> s == Stream.DECODER && member == 0 && layer == 1
                ? 0.9 : 0.1, VOCAB.size());
        ExitPolicy p = ExitPolicy.builder().decoderSchedule(new DecoderSchedule.Table(new double[] {0.5, 1.0}))
                .kvPolicy(kv).build();
        try (Executable ex = Runtime.interpret(plan(p), ops); EncodedBatch b = ex.encode(inputs(1));
                DecoderStepper s = ex.decoder(b, new int[] {0, 0}, 8)) {
            StepOutput o = s.step(new int[] {0, 0});
            assertArrayEquals(new int[] {1, 3}, o.exitLayer());
            // The LM head read each row's state from the layer where it stopped.
            assertEquals(1f, o.logits()[0][0]);
            assertEquals(3f, o.logits()[1][0]);
            assertEquals(0f, o.logits()[0][1]);
            assertEquals(1f, o.logits()[1][1]);
            assertTrue(ops.log.contains("dec L2 rows [1]"), ops.log.toString());
            s.step(new int[] {7, 8});
        }
        return ops;
    }

    @Test
    void skippedLayersGetWhatTheKvPolicySays() {
        List<String> propagate = decodeWith(KvPolicy.PROPAGATE).lastCaches.entries;
        assertTrue(propagate.containsAll(List.of("2:0@0<-propagate(L1)", "3:0@0<-propagate(L1)")), propagate.toString());
        List<String> copy = decodeWith(KvPolicy.COPY).lastCaches.entries;
        assertTrue(copy.containsAll(List.of("2:0@0<-copy(L1)", "3:0@0<-copy(L1)")), copy.toString());
        List<String> omit = decodeWith(KvPolicy.OMIT).lastCaches.entries;
        assertFalse(omit.stream().anyMatch(e -> e.startsWith("2:0@0") || e.startsWith("3:0@0")), omit.toString());
        for (List<String> e : List.of(propagate, copy, omit)) {
            // Row 1 ran every layer at position 0, and both rows every layer at position 1.
            assertTrue(e.containsAll(List.of("1:0@0<-self", "1:1@0<-self", "2:1@0<-self", "3:1@0<-self",
                    "3:0@1<-self", "3:1@1<-self")), e.toString());
            assertEquals(1, e.stream().filter(x -> x.startsWith("1:0@0")).count(), "one entry per layer and position");
        }
    }

    @Test
    void decoderThresholdsComeFromTheScheduleStepByStep() {
        DecoderSchedule decay = new DecoderSchedule.Decay(0.99, 0.95, 1.0);
        ScriptedOps ops = new ScriptedOps((m, s, layer, member) -> 0.97, VOCAB.size());
        try (Executable ex = Runtime.interpret(plan(ExitPolicy.builder().decoderSchedule(decay).build()), ops);
                EncodedBatch b = ex.encode(inputs(1)); DecoderStepper s = ex.decoder(b, new int[] {0}, 5)) {
            for (int t = 0; t < 5; t++) {
                StepOutput o = s.step(new int[] {t == 0 ? 0 : 6});
                double th = o.gates().get(0).get(0).threshold();
                assertEquals(decay.threshold(t, 5), th, 0.0, "step " + t);
                assertEquals(0.97 > th ? 1 : 3, o.exitLayer()[0], "step " + t);
            }
        }
    }

    @Test
    void crossAttentionIsPreparedOncePerExampleAndLayerWhenFirstReached() {
        ScriptedOps ops = new ScriptedOps((m, s, layer, member) -> s == Stream.DECODER && member == 2 ? 0.9 : 0.1,
                VOCAB.size());
        ExitPolicy p = ExitPolicy.builder().decoderThreshold(0.5).build();
        try (Executable ex = Runtime.interpret(plan(p), ops); EncodedBatch b = ex.encode(inputs(2));
                DecoderStepper s = ex.decoder(b, new int[] {0, 0, 1}, 8)) {
            s.step(new int[] {0, 0, 0});
            s.step(new int[] {5, 6, 7});
            @SuppressWarnings("unchecked")
            ScriptedOps.Memory m = ((RtEncodedBatch<ScriptedOps.Memory>) b).memory;
            // Example 1's only row exits after layer 1: its layers 2 and 3 are never prepared.
            assertEquals(List.of("L1:0", "L1:1", "L2:0", "L3:0"), m.prepared);
        }
    }

    @Test
    void aScoringPassDecidesOncePerExampleAndReturnsRowsInTheirOrder() {
        ScriptedOps ops = new ScriptedOps((m, s, layer, member) -> member == 1 && layer == 1 ? 0.9 : 0.1, VOCAB.size());
        ExitPolicy p = ExitPolicy.builder().decoderThreshold(0.5).build();
        int[] rows = {1, 0, 1, 0};
        int[][] seqs = {{0, 5, 6}, {0, 7}, {0, 5, 8}, {0, 9}};
        int[] first = {1, 0, 2, 1};
        try (Executable ex = Runtime.interpret(plan(p), ops); EncodedBatch b = ex.encode(inputs(2))) {
            ScoringOutput o = ex.score(b, rows, seqs, first);
            assertArrayEquals(new int[] {3, 1}, o.exitLayer());
            assertEquals(2, o.gates().get(0).size());
            assertEquals(1, o.gates().get(1).size());
            assertTrue(ops.log.contains("pass L2 examples [0, 0]"), ops.log.toString());
            for (int r = 0; r < 4; r++) {
                assertEquals(seqs[r].length - first[r], o.logits()[r].length, "row " + r);
                assertEquals(rows[r] == 1 ? 1f : 3f, o.logits()[r][0][0], "row " + r + " read its example's exit layer");
                assertEquals(rows[r], (int) o.logits()[r][0][1], "row " + r);
            }
        }
    }

    @Test
    void theCriterionSaysWhatTheBackendMeasures() {
        ScriptedOps ops = new ScriptedOps((m, s, layer, member) -> m == GateMeasure.TOP_PROBABILITY ? 0.9 : 0.1,
                VOCAB.size());
        ExitPolicy p = ExitPolicy.builder().decoderThreshold(0.5).decoderCriterion("calm").build();
        try (Executable ex = Runtime.interpret(plan(p), ops); EncodedBatch b = ex.encode(inputs(1));
                DecoderStepper s = ex.decoder(b, new int[] {0}, 8)) {
            assertEquals(1, s.step(new int[] {0}).exitLayer()[0]);
            int layer1 = ops.log.indexOf("dec L1 rows [0]");
            assertEquals("measure TOP_PROBABILITY [0]", ops.log.get(layer1 + 1), ops.log.toString());
            assertEquals(layer1 + 2, ops.log.size(), "nothing after the exit: " + ops.log);
        }
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> plan(ExitPolicy.builder().encoderCriterion("calm").build()));
        assertTrue(e.getMessage().contains("does not apply to image gates"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> plan(ExitPolicy.builder().decoderCriterion("nope").build()));
        assertTrue(e.getMessage().contains("unknown exit criterion 'nope'; known: calm, cosine"), e.getMessage());
    }

    @Test
    void everyWorkspaceIsClosedAndRequestsAreCheckedFirst() {
        ScriptedOps ops = new ScriptedOps((m, s, layer, member) -> 0.1, VOCAB.size());
        Executable ex = Runtime.interpret(plan(ExitPolicy.full()), ops);
        try (EncodedBatch b = ex.encode(inputs(2)); DecoderStepper s = ex.decoder(b, new int[] {0, 1}, 8)) {
            s.step(new int[] {0, 0});
            s.reorder(new int[] {1, 1, 0});
            s.step(new int[] {5, 6, 7});
            ex.score(b, new int[] {0}, new int[][] {{0, 5}}, new int[] {0});
            assertThrows(InvalidInputException.class, () -> s.step(new int[] {5}));
            assertThrows(InvalidInputException.class, () -> s.step(new int[] {5, 6, 99999}));
            assertThrows(InvalidInputException.class, () -> s.reorder(new int[] {3}));
            assertThrows(InvalidInputException.class, () -> ex.decoder(b, new int[] {2}, 8));
            assertThrows(InvalidInputException.class, () -> ex.decoder(b, new int[] {0}, 0));
        }
        assertEquals(ops.workspaces, ops.closedWorkspaces, "every workspace opened was closed");
        assertThrows(InvalidInputException.class, () -> ex.encode(List.of()));
        ex.close();
        assertEquals("closed", ops.log.get(ops.log.size() - 1));
        assertThrows(IllegalStateException.class, () -> ex.encode(inputs(1)));
    }
}
