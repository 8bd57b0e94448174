package dev.mue.api.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ExitPolicyTest {

    @Test
    void decayFollowsThePaperFormula() {
        DecoderSchedule s = new DecoderSchedule.Decay(0.99, 0.95, 1.0);
        assertEquals(0.95 * 0.99 + 0.05, s.threshold(0, 16), 1e-15);
        assertEquals(0.95 * 0.99 + 0.05 * Math.exp(-8 / 16.0), s.threshold(8, 16), 1e-15);
        assertTrue(s.threshold(15, 16) < s.threshold(1, 16), "the threshold decays with the step");
    }

    @Test
    void referenceDecayHoldsTheFirstThirdAtOne() {
        DecoderSchedule s = new DecoderSchedule.ReferenceDecay(0.9);
        // N = 16: (N+1)/3 = 5.67, so steps 0..5 never exit
        for (int t = 0; t <= 5; t++) {
            assertEquals(1.0, s.threshold(t, 16), "step " + t);
        }
        assertEquals(0.9 * 0.9 + 0.1 * Math.exp(-7 / 17.0), s.threshold(6, 16), 1e-15);
    }

    @Test
    void fixedIsConstantAndThetaIsTheStaticThreshold() {
        assertEquals(0.7, new DecoderSchedule.Fixed(0.7).threshold(9, 16));
        assertEquals(0.99, new DecoderSchedule.Decay(0.99, 0.95, 1).theta());
    }

    @Test
    void thresholdsOutsideCosineRangeAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> ExitPolicy.builder().imageThreshold(1.5).build());
        assertThrows(IllegalArgumentException.class, () -> ExitPolicy.builder().textThreshold(Double.NaN).build());
        assertThrows(IllegalArgumentException.class, () -> new DecoderSchedule.Decay(0.9, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> ExitPolicy.builder().minExitLayer(0).build());
    }

    @Test
    void defaultsAndPaperValues() {
        ExitPolicy full = ExitPolicy.full();
        assertEquals(1.0, full.imageThreshold());
        assertEquals(KvPolicy.PROPAGATE, full.kvPolicy());
        assertEquals(EncoderMode.DECOMPOSED, full.encoderMode());
        assertTrue(full.imageRelativeBiasInEncoder());
        ExitPolicy paper = ExitPolicy.paper();
        assertEquals(0.90, paper.imageThreshold());
        assertEquals(0.95, paper.textThreshold());
        assertEquals(new DecoderSchedule.Decay(0.99, 0.95, 1.0), paper.decoderSchedule());
        ExitPolicy changed = paper.toBuilder().kvPolicy(KvPolicy.OMIT).build();
        assertEquals(KvPolicy.OMIT, changed.kvPolicy());
        assertEquals(0.95, changed.textThreshold());
    }
}
