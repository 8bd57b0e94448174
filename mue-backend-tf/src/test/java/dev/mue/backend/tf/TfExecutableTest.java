package dev.mue.backend.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.BackendUnavailableException;
import dev.mue.api.model.Model;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.Prepared;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The compiled executable's structure and contract beyond the TCK: Ifs per gate, one run per stage, closing. */
class TfExecutableTest {
    private static final Model MODEL = TfFixture.model(TfFixture.config(3, 3), 11);

    private static TfExecutable prepare(ExitPolicy p) {
        return TfFixture.compiled(TfFixture.plan(MODEL, p));
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void everyEnabledGateIsAnIfOp() {
        try (TfExecutable ex = prepare(ExitPolicy.builder().encoderThreshold(0.5).decoderThreshold(0.5).build())) {
            String d = ex.describeCompiled().orElseThrow();
            // Encoder: image and text gates after layer 1 in encode_example, the shared gate after
            // layer 2 in enc_level_2; scorer: gates after layers 1 and 2. Decoder (a batch of rows,
            // each deciding on its own): after layers 1 and 2, an If on "any row exits" (filling the
            // skipped layers' caches for those rows) and an If on "any row stays" (the next level).
            assertEquals(1, count(d, "^\\s+gate\\.image\\.L1 .*If\\(cos"), d);
            assertEquals(1, count(d, "^\\s+gate\\.text\\.L1 .*If\\(cos"), d);
            assertEquals(1, count(d, "^\\s+gate\\.image\\|text\\.L2 .*If\\(cos"), d);
            assertEquals(2, count(d, "^\\s+gate\\.decoder\\.L[12] .*If\\(cos"), "scorer: " + d);
            assertEquals(2, count(d, "^\\s+gate\\.decoder\\.L[12] .*If\\(any row: cos\\(out, in\\) > threshold\\) "
                    + "then dec_exit_[12]\\S* else dec_keep_"), d);
            assertEquals(2, count(d, "^\\s+gate\\.decoder\\.L[12] .*If\\(any row: cos\\(out, in\\) <= threshold\\) "
                    + "then dec_level_[23]\\S* else dec_pass_"), d);
            assertEquals(0, count(d, "gate\\.[a-z|]+\\.L3"), "no gate after the last layer: " + d);
            assertTrue(d.contains("9 conditional nodes"), d);
            assertTrue(d.matches("(?s).*dec_exit_1_\\S+\\s+then branch \\(rows exit\\).*dec_kv_L2 .*dec_kv_L3 .*"),
                    "the decoder's exit after layer 1 fills the caches of layers 2 and 3 (propagate): " + d);
            assertTrue(d.matches("(?s).*step_r1 .*calls decode_step\\S*\\n.*"), "one call per step: " + d);
        }
    }

    @Test
    void gatesBelowTheMinimumLayerAreNoBranch() {
        try (TfExecutable ex = prepare(ExitPolicy.builder().encoderThreshold(-1).decoderThreshold(-1).minExitLayer(2)
                .build())) {
            String d = ex.describeCompiled().orElseThrow();
            assertEquals(0, count(d, "gate\\.[a-z|]+\\.L1 "), d);
            assertTrue(d.contains("gates below layer 2 are disabled"), d);
            try (EncodedBatch b = ex.encode(List.of(TfFixture.input(MODEL.config(), 1, 4)))) {
                // Threshold -1 exits at the first enabled gate: layer 2; layer 1's gate is recorded, not taken.
                assertEquals(2, b.exits(0).get(0).exitLayer());
                assertFalse(b.exits(0).get(0).gates().get(0).exit());
                assertTrue(b.exits(0).get(0).gates().get(1).exit());
            }
        }
    }

    @Test
    void eachEncoderPassDecodingStepAndScoringPassIsOneSessionRun() {
        try (TfExecutable ex = prepare(ExitPolicy.builder().decoderThreshold(0.6).kvPolicy(KvPolicy.COPY).build())) {
            AtomicInteger runs = new AtomicInteger();
            ex.trace(md -> runs.incrementAndGet());
            try (EncodedBatch b = ex.encode(TfFixture.inputs(MODEL.config(), 3))) {
                assertEquals(1, runs.getAndSet(0), "encoder pass of 3 examples");
                try (DecoderStepper s = ex.decoder(b, new int[] {0, 1, 2, 2}, 16)) {
                    assertEquals(1, runs.getAndSet(0), "the cross-attention keys of the 3 examples, once");
                    for (int t = 0; t < 3; t++) {
                        s.step(new int[] {t == 0 ? 0 : 5, 6, 7, 8});
                        assertEquals(1, runs.getAndSet(0), "decoding step " + t);
                        s.reorder(new int[] {3, 3, 0, 1});
                        assertEquals(0, runs.get(), "a reorder runs nothing");
                    }
                }
                ex.score(b, new int[] {0, 0, 2}, new int[][] {{0, 5, 6}, {0, 5, 7, 8}, {0, 9}}, new int[] {1, 1, 1});
                assertEquals(1, runs.get(), "scoring pass");
            } finally {
                ex.trace(null);
            }
        }
    }

    @Test
    void aBatchComputesExactlyWhatSingleCallsCompute() {
        List<EncoderInput> in = TfFixture.inputs(MODEL.config(), 3);
        try (TfExecutable ex = prepare(ExitPolicy.builder().encoderThreshold(0.7).decoderThreshold(0.7).build());
                EncodedBatch all = ex.encode(in)) {
            for (int i = 0; i < in.size(); i++) {
                try (EncodedBatch one = ex.encode(List.of(in.get(i)))) {
                    // Each example runs its own chain of the same functions on the same shapes, in one
                    // process: the same kernels run on both sides, so bit for bit the same on any CPU
                    // (determinism, not a float tolerance; see dev.mue.tck.check.Float32).
                    assertEquals(all.exits(i), one.exits(0), "example " + i);
                    assertArrayEquals(all.output(i), one.output(0), "example " + i);
                }
            }
        }
    }

    @Test
    void closedThingsRefuseWork() {
        TfExecutable ex = prepare(ExitPolicy.full());
        EncodedBatch b = ex.encode(List.of(TfFixture.input(MODEL.config(), 2, 3)));
        DecoderStepper s = ex.decoder(b, new int[] {0}, 16);
        s.step(new int[] {0});
        b.close();
        assertThrows(IllegalStateException.class, () -> s.step(new int[] {5}));
        s.close();
        s.close();
        ex.close();
        assertThrows(IllegalStateException.class, () -> ex.encode(List.of(TfFixture.input(MODEL.config(), 2, 3))));
        assertThrows(IllegalStateException.class, ex::describeCompiled);
        ex.close();
    }

    @Test
    void aDeviceWithoutNativesIsRefused() {
        assertThrows(BackendUnavailableException.class,
                () -> new TfBackendProvider().create(new BackendOptions(1, "cuda:0", Map.of())).close());
        assertThrows(BackendUnavailableException.class,
                () -> new TfBackendProvider().create(new BackendOptions(1, "", Map.of("mode", "lazy"))).close());
    }

    @Test
    void eagerModeIsSelectedByAProperty() {
        try (Prepared p = TfFixture.eager().prepare(TfFixture.plan(MODEL, ExitPolicy.full()))) {
            assertTrue(p instanceof Prepared.Interpreted i && i.ops() instanceof TfEagerOps, p.toString());
        }
        // A criterion the graphs do not compile runs interpreted, in eager mode.
        try (Prepared p = TfFixture.graph().prepare(TfFixture.plan(MODEL,
                ExitPolicy.builder().decoderCriterion("calm").build()))) {
            assertTrue(p instanceof Prepared.Interpreted i && i.ops() instanceof TfEagerOps, p.toString());
        }
    }
}
