package dev.mue.tck.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.Capabilities;
import dev.mue.tck.cases.TckCase;
import dev.mue.tck.cases.TckCases;
import dev.mue.tck.check.CaseRun;
import dev.mue.tck.check.CaseRunner;
import dev.mue.tck.check.Comparison;
import dev.mue.tck.check.CpuFeatures;
import dev.mue.tck.check.Float32;
import dev.mue.tck.check.ReferenceRun;
import dev.mue.tck.check.Report;
import dev.mue.tck.check.Tolerances;
import dev.mue.tck.reference.RecordingStepper;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The suite's own machinery: a run identical to the reference passes; an injected error of each
 * kind (an encoder output off by 1e-3, a decision flipped with a wide margin, logits off, a
 * similarity off) fails with a message naming it; a close call decided the other way is counted,
 * not failed; undeclared capabilities become "unsupported".
 */
class TckMechanicsTest {
    private static final TckCase CASE = TckCases.byName("s2-cal-copy-b5-beam3");

    private static CaseRun copy(CaseRun r, List<CaseRun.Example> encoded, List<RecordingStepper.Call> replay) {
        return new CaseRun("mutant", r.tckCase(), encoded, replay, r.hypotheses(), r.scoring(), r.singles());
    }

    @Test
    void theReferenceAgreesWithItself() {
        ReferenceRun ref = CaseRunner.reference(CASE);
        Report r = Comparison.compare(ref, ref.run(), ref.run(), 0.0);
        assertTrue(r.ok(), r.describe("self"));
        assertTrue(r.decisions() > 100, "decisions compared: " + r.decisions());
        assertEquals(0, r.closeCalls());
    }

    @Test
    void anEncoderOutputOffBy1e3IsCaught() {
        ReferenceRun ref = CaseRunner.reference(CASE);
        List<CaseRun.Example> enc = new ArrayList<>(ref.run().encoded());
        CaseRun.Example e = enc.get(2);
        double[] out = e.output().clone();
        out[5] += 1e-3;
        enc.set(2, new CaseRun.Example(e.exits(), e.outputTokens(), out));
        Report r = Comparison.compare(ref, ref.run(), copy(ref.run(), enc, ref.run().replay()), Tolerances.VECTOR);
        assertFalse(r.ok());
        assertTrue(r.problems().get(0).contains("example 2: encoder output differs"), r.problems().toString());
    }

    private static List<GateRecord> flipLast(List<GateRecord> gates, double simShift) {
        List<GateRecord> g = new ArrayList<>(gates);
        GateRecord last = g.get(g.size() - 1);
        g.set(g.size() - 1, new GateRecord(last.stream(), last.layer(), last.similarity() + simShift, last.threshold(),
                simShift == 0 ? !last.exit() : last.exit()));
        return g;
    }

    @Test
    void aFlippedDecisionWithAMarginFailsAndAFlippedCloseCallIsCounted() {
        ReferenceRun ref = CaseRunner.reference(CASE);
        List<CaseRun.Example> enc = new ArrayList<>(ref.run().encoded());
        CaseRun.Example e = enc.get(0);
        EncoderExit img = e.exits().get(0);
        List<EncoderExit> exits = new ArrayList<>(e.exits());
        exits.set(0, new EncoderExit(img.stream(), img.exitLayer(), img.tokens(), flipLast(img.gates(), 0)));
        enc.set(0, new CaseRun.Example(exits, e.outputTokens(), e.output()));
        Report r = Comparison.compare(ref, ref.run(), copy(ref.run(), enc, ref.run().replay()), Tolerances.VECTOR);
        assertFalse(r.ok());
        assertTrue(r.problems().get(0).contains("image stream gate after layer"), r.problems().toString());

        // The same flip on a gate whose reference margin is below 1e-4 is a close call, not a failure.
        GateRecord g = img.gates().get(img.gates().size() - 1);
        List<GateRecord> near = new ArrayList<>(img.gates());
        near.set(near.size() - 1, new GateRecord(g.stream(), g.layer(), g.threshold() + 5e-5, g.threshold(), true));
        List<EncoderExit> refExits = new ArrayList<>(e.exits());
        refExits.set(0, new EncoderExit(img.stream(), img.exitLayer(), img.tokens(), near));
        List<CaseRun.Example> refEnc = new ArrayList<>(ref.run().encoded());
        refEnc.set(0, new CaseRun.Example(refExits, e.outputTokens(), e.output()));
        ReferenceRun nearRef = new ReferenceRun(copy(ref.run(), refEnc, ref.run().replay()), ref.firstTieStep(),
                ref.firstCloseStep(), ref.sharedSearch());
        List<GateRecord> flipped = new ArrayList<>(near);
        flipped.set(flipped.size() - 1, new GateRecord(g.stream(), g.layer(), g.threshold() - 5e-5, g.threshold(), false));
        List<EncoderExit> bExits = new ArrayList<>(e.exits());
        bExits.set(0, new EncoderExit(img.stream(), img.exitLayer() + 1, img.tokens(), flipped));
        List<CaseRun.Example> bEnc = new ArrayList<>(ref.run().encoded());
        bEnc.set(0, new CaseRun.Example(bExits, e.outputTokens(), e.output()));
        Report close = Comparison.compare(nearRef, nearRef.run(), copy(ref.run(), bEnc, ref.run().replay()),
                Tolerances.VECTOR);
        assertTrue(close.ok(), close.describe("close call"));
        assertEquals(1, close.closeCalls());
        assertEquals(1, close.flippedCloseCalls());
    }

    @Test
    void decoderLogitsOrSimilaritiesOffAreCaught() {
        ReferenceRun ref = CaseRunner.reference(CASE);
        List<RecordingStepper.Call> calls = new ArrayList<>(ref.run().replay());
        int at = -1;
        for (int i = calls.size() - 1; i >= 0 && at < 0; i--) {
            if (calls.get(i) instanceof RecordingStepper.Step) {
                at = i;
            }
        }
        RecordingStepper.Step s = (RecordingStepper.Step) calls.get(at);
        double[][] logits = s.logits().clone();
        logits[1] = logits[1].clone();
        logits[1][7] += 0.01;
        calls.set(at, new RecordingStepper.Step(s.tokens(), s.exampleOfRow(), logits, s.exitLayer(),
                s.gates()));
        Report r = Comparison.compare(ref, ref.run(), copy(ref.run(), ref.run().encoded(), calls), Tolerances.VECTOR);
        assertFalse(r.ok());
        assertTrue(r.problems().get(0).contains("logits differ"), r.problems().toString());

        List<List<GateRecord>> gates = new ArrayList<>(s.gates());
        int row = 0;
        while (gates.get(row).isEmpty()) {
            row++;
        }
        List<GateRecord> g = new ArrayList<>(gates.get(row));
        GateRecord first = g.get(0);
        g.set(0, new GateRecord(first.stream(), first.layer(), first.similarity() + 3e-4, first.threshold(), first.exit()));
        gates.set(row, g);
        calls.set(at, new RecordingStepper.Step(s.tokens(), s.exampleOfRow(), s.logits(), s.exitLayer(),
                gates));
        r = Comparison.compare(ref, ref.run(), copy(ref.run(), ref.run().encoded(), calls), Tolerances.VECTOR);
        assertFalse(r.ok());
        assertTrue(r.problems().get(0).contains("similarity"), r.problems().toString());
    }

    @Test
    void undeclaredCapabilitiesAreUnsupported() {
        Capabilities some = new Capabilities(List.of("cpu"), "float32", false, false, EnumSet.of(KvPolicy.PROPAGATE),
                Set.of(EncoderMode.DECOMPOSED));
        assertNull(BackendConformanceTest.gap(some, ExitPolicy.full()));
        String kv = BackendConformanceTest.gap(some, ExitPolicy.builder().kvPolicy(KvPolicy.OMIT).build());
        assertTrue(kv.startsWith("unsupported:") && kv.contains("OMIT"), kv);
        String mode = BackendConformanceTest.gap(some, ExitPolicy.builder().encoderMode(EncoderMode.JOINT).build());
        assertTrue(mode.startsWith("unsupported:") && mode.contains("JOINT"), mode);
    }

    @Test
    void theSummaryLineCountsEveryOutcome() {
        TckSummary.Tally t = new TckSummary.Tally("demo");
        t.outcome(TckSummary.Outcome.PASS);
        t.outcome(TckSummary.Outcome.FAIL);
        t.outcome(TckSummary.Outcome.UNSUPPORTED);
        t.outcome(TckSummary.Outcome.SKIPPED);
        t.badInput(true);
        String line = t.line();
        assertTrue(line.startsWith("TCK[demo]: 4 cases (1 pass, 1 fail, 1 unsupported, 1 skipped), 0 decisions compared, "
                + "0 close calls, 0 token ties, max rel error"), line);
        assertTrue(line.endsWith("; 1/1 bad inputs rejected; " + CpuFeatures.describe()), line);
        assertTrue(CpuFeatures.describe().startsWith("cpu "), line);
    }

    @Test
    void theCpuFeaturesAreReadFromCpuInfo() {
        String x86 = "processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw\nprocessor\t: 1\n";
        assertEquals("cpu amd64 sse4_2,avx,avx2,fma,avx512f,avx512bw", CpuFeatures.describe(x86, "amd64"));
        assertEquals("cpu amd64 sse4_2,avx,avx2,fma", CpuFeatures.describe("flags : fma avx2 avx sse4_2 ht\n", "amd64"));
        assertEquals("cpu aarch64 asimd,sve", CpuFeatures.describe("Features\t: fp asimd evtstrm sve\n", "aarch64"));
        assertEquals("cpu riscv64 (features unknown)", CpuFeatures.describe(null, "riscv64"));
        assertEquals("cpu amd64 (no vector features)", CpuFeatures.describe("flags : fpu ht\n", "amd64"));
    }

    @Test
    void float32StepsCountNeighboursAcrossZero() {
        assertEquals(0, Float32.steps(1.0, 1f));
        assertEquals(1, Float32.steps(1.0, Math.nextUp(1f)));
        assertEquals(2, Float32.steps(Math.nextDown(0f), Float.MIN_VALUE));
        assertEquals(0, Float32.steps(-0.0, 0f));
        assertEquals(Long.MAX_VALUE, Float32.steps(1.0, Float.NaN));
        // gelu(2) on two CPUs (the report that led to these bands): two steps apart, inside the band.
        Float32.assertWithinSteps(1.9544997361036416, 1.9544999599f, Float32.ELEMENTWISE_STEPS, "gelu(2)");
        // The tanh form of GELU at x = 1 is far outside the band.
        double tanhForm = 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (1 + 0.044715)));
        assertThrows(AssertionError.class, () -> Float32.assertWithinSteps(0.8413447460685429, (float) tanhForm,
                Float32.ELEMENTWISE_STEPS, "tanh-form gelu(1)"));
        assertTrue(Float32.steps(0.8413447460685429, (float) tanhForm) > 100 * Float32.ELEMENTWISE_STEPS);
    }

    @Test
    void float32VectorBandsAreRelativeToTheExpectedScale() {
        float[] ref = {100f, -200f, 50f};
        float[] near = {100.001f, -200f, 50f}; // 1e-3 on a vector of rms 132: 7.6e-6 relative
        Float32.assertVectorClose(ref, near, Float32.SAME_LIBRARY_VECTOR, "near");
        float[] off = {100.01f, -200f, 50f};
        assertThrows(AssertionError.class, () -> Float32.assertVectorClose(ref, off, Float32.SAME_LIBRARY_VECTOR, "off"));
        assertThrows(AssertionError.class, () -> Float32.assertVectorClose(ref, new float[] {100f, Float.NaN, 50f},
                Float32.SAME_LIBRARY_VECTOR, "NaN"));
    }

    @Test
    void aNaNAnywhereInAVectorIsAnError() {
        double[] ref = {1, 2, 3, 4};
        for (int i = 0; i < ref.length; i++) {
            double[] bad = ref.clone();
            bad[i] = Double.NaN;
            assertTrue(Double.isNaN(Tolerances.vectorError(bad, ref, ref)), "NaN at " + i);
            assertFalse(Tolerances.vectorError(bad, ref, ref) <= Tolerances.VECTOR, "NaN at " + i + " passes no band");
        }
    }
}
