package dev.mue.train.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.MathContext;
import org.junit.jupiter.api.Test;

/** The p-values against values worked by hand (shown in the comments) and a BigDecimal control. */
class PValuesTest {

    @Test
    void binomialTailByHand() {
        // P[Binom(10, 0.1) <= 0] = 0.9^10 = 0.3486784401
        assertEquals(0.3486784401, PValues.binomialCdf(0, 10, 0.1), 1e-12);
        // P[Binom(10, 0.1) <= 1] = 0.9^10 + 10 * 0.1 * 0.9^9 = 0.3486784401 + 0.387420489 = 0.7360989291
        assertEquals(0.7360989291, PValues.binomialCdf(1, 10, 0.1), 1e-12);
        // P[Binom(5, 0.5) <= 2] = (C(5,0) + C(5,1) + C(5,2)) / 32 = (1 + 5 + 10) / 32 = 0.5
        assertEquals(0.5, PValues.binomialCdf(2, 5, 0.5), 1e-15);
        assertEquals(0, PValues.binomialCdf(-1, 5, 0.5));
        assertEquals(1, PValues.binomialCdf(5, 5, 0.5));
    }

    @Test
    void binomialTailMatchesExactArithmeticWhereTermsWouldUnderflow() {
        // n = 5000: 0.98^5000 is 1e-44, each term alone far below what a naive product keeps well
        for (int k : new int[] {0, 3, 60, 100, 140}) {
            BigDecimal sum = BigDecimal.ZERO;
            MathContext mc = new MathContext(60);
            BigDecimal p = new BigDecimal("0.02");
            BigDecimal q = BigDecimal.ONE.subtract(p);
            BigDecimal choose = BigDecimal.ONE;
            for (int i = 0; i <= k; i++) {
                if (i > 0) {
                    choose = choose.multiply(BigDecimal.valueOf(5000 - i + 1)).divide(BigDecimal.valueOf(i), mc);
                }
                sum = sum.add(choose.multiply(p.pow(i, mc), mc).multiply(q.pow(5000 - i, mc), mc), mc);
            }
            double exact = sum.doubleValue();
            assertEquals(exact, PValues.binomialCdf(k, 5000, 0.02), 1e-9 * exact + 1e-300, "k " + k);
        }
    }

    @Test
    void hoeffdingByHand() {
        // h(0.1, 0.2) = 0.1 ln(0.1/0.2) + 0.9 ln(0.9/0.8) = -0.0693147 + 0.1060047 = 0.0366900
        // exp(-100 * 0.0366900) = 0.0255019
        assertEquals(0.0366900140, PValues.bernoulliKl(0.1, 0.2), 1e-9);
        assertEquals(0.0255019234, PValues.hoeffding(0.1, 100, 0.2), 1e-9);
        // at or above delta the bound says nothing: min(Rhat, delta) = delta, h = 0, p = 1
        assertEquals(1.0, PValues.hoeffding(0.3, 100, 0.2));
        assertEquals(1.0, PValues.hoeffding(0.2, 100, 0.2));
        // Rhat = 0: h(0, d) = ln(1/(1-d)), p = (1-d)^n = 0.8^10 = 0.1073741824
        assertEquals(0.1073741824, PValues.hoeffding(0, 10, 0.2), 1e-12);
    }

    @Test
    void bentkusByHandAndItsCeiling() {
        // e * P[Binom(10, 0.5) <= 2] = e * (1 + 10 + 45) / 1024 = e * 56 / 1024 = 0.1486560
        assertEquals(Math.E * 56 / 1024, PValues.bentkus(2, 10, 0.5), 1e-15);
        // a loss sum of 2.5 rounds up: e * P[Binom(10, 0.5) <= 3] = e * 176 / 1024 = 0.4672047
        assertEquals(Math.E * 176 / 1024, PValues.bentkus(2.5, 10, 0.5), 1e-15);
        // losses 0.2, 0.4, 0.3 and 0.1 sum to 1.0000000000000002 in floating point: still ceil 1,
        // e * P[Binom(10, 0.5) <= 1] = e * 11 / 1024
        double sum = 0.2 + 0.4 + 0.3 + 0.1;
        assertTrue(sum > 1);
        assertEquals(Math.E * 11 / 1024, PValues.bentkus(sum, 10, 0.5), 1e-15);
        // capped at 1
        assertEquals(1.0, PValues.bentkus(9, 10, 0.5));
    }

    @Test
    void hoeffdingBentkusIsTheSmallerOfTheTwo() {
        // sum 2 of n 10 at delta 0.5: Hoeffding exp(-10 h(0.2, 0.5)), h = 0.2 ln 0.4 + 0.8 ln 1.6
        // = -0.1832581 + 0.3760029 = 0.1927448, p = 0.1455192; Bentkus 0.1486560: Hoeffding wins
        assertEquals(0.1455191523, PValues.hoeffdingBentkus(2, 10, 0.5), 1e-9);
        // sum 0 of n 100 at delta 0.02: Hoeffding 0.98^100 = 0.1326196, Bentkus e * 0.98^100 = 0.3605
        assertEquals(Math.pow(0.98, 100), PValues.hoeffdingBentkus(0, 100, 0.02), 1e-12);
        // sum 30 of n 1000 at delta 0.05: Bentkus is the tighter one here
        double h = PValues.hoeffding(0.03, 1000, 0.05);
        double b = PValues.bentkus(30, 1000, 0.05);
        assertTrue(b < h, b + " vs " + h);
        assertEquals(b, PValues.hoeffdingBentkus(30, 1000, 0.05));
    }

    @Test
    void exactBinomialForBinaryLossesAndItsMethod() {
        // 0 of 100 changed at delta 0.02: 0.98^100 = 0.1326196
        assertEquals(0.1326195559, PValues.exactBinomial(0, 100, 0.02), 1e-9);
        double[] losses = new double[100];
        losses[3] = 1;
        // 1 of 100: 0.98^100 + 100 * 0.02 * 0.98^99 = 0.1326196 + 0.2706522 = 0.4032717
        assertEquals(0.4032717, PValueMethod.EXACT_BINOMIAL.pValue(losses, 0.02), 1e-6);
        // the exact tail is tighter than Hoeffding-Bentkus on the same binary losses
        assertTrue(PValueMethod.EXACT_BINOMIAL.pValue(losses, 0.05) < PValueMethod.HOEFFDING_BENTKUS.pValue(losses, 0.05));
        losses[4] = 0.5;
        assertThrows(IllegalArgumentException.class, () -> PValueMethod.EXACT_BINOMIAL.pValue(losses, 0.02));
    }

    @Test
    void smallestCertifiableDeltaIsWhereThePValueCrossesEpsilon() {
        double[] losses = new double[200];
        for (int i = 0; i < 4; i++) {
            losses[i] = 1;
        }
        double d = PValueMethod.EXACT_BINOMIAL.smallestCertifiableDelta(losses, 0.05);
        assertTrue(PValueMethod.EXACT_BINOMIAL.pValue(losses, d) <= 0.05);
        assertTrue(PValueMethod.EXACT_BINOMIAL.pValue(losses, d - 2e-4) > 0.05);
        assertTrue(d > 4.0 / 200 && d < 0.06, "delta " + d);
    }
}
