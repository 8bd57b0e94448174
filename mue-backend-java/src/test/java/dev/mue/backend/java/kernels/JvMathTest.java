package dev.mue.backend.java.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link JvMath} against reference values, and GELU against the tanh approximation it must not be. */
class JvMathTest {
    private static final double SQRT_HALF = Math.sqrt(0.5);

    /** Reference values from mpmath at 30 digits. */
    @Test
    void erfMatchesKnownValues() {
        assertEquals(0.0, JvMath.erf(0), 0.0);
        assertEquals(0.5204998778130465, JvMath.erf(0.5), 1e-13);
        assertEquals(0.8427007929497149, JvMath.erf(1), 1e-13);
        assertEquals(0.9953222650189527, JvMath.erf(2), 1e-13);
        assertEquals(0.9999779095030014, JvMath.erf(3), 1e-13);
        assertEquals(-0.9661051464753108, JvMath.erf(-1.5), 1e-13);
        assertEquals(0.9999999998033839, JvMath.erf(4.5), 1e-13);
        assertEquals(0.011283415555849618, JvMath.erf(0.01), 1e-15);
        assertEquals(-0.3286267594591274, JvMath.erf(-0.3), 1e-13);
    }

    /** Both sides of the switch from the Taylor series to the continued fraction at 2.5. */
    @Test
    void erfIsAccurateAcrossTheMethodSwitch() {
        assertEquals(0.9995707121322661, JvMath.erf(2.49), 1e-13);
        assertEquals(0.9995930479825550, JvMath.erf(2.5), 1e-13);
        assertEquals(0.9996142945182758, JvMath.erf(2.51), 1e-13);
        assertEquals(0.9999999999999999, JvMath.erf(5.9), 1e-15);
        assertEquals(1.0, JvMath.erf(7), 0.0);
        assertEquals(-1.0, JvMath.erf(-7), 0.0);
        assertTrue(Double.isNaN(JvMath.erf(Double.NaN)));
    }

    @Test
    void erfIsOddAndMonotone() {
        double prev = -1;
        for (int i = -700; i <= 700; i++) {
            double x = i / 100.0;
            double e = JvMath.erf(x);
            assertEquals(-e, JvMath.erf(-x), 0.0, "odd at " + x);
            assertTrue(e >= prev, "monotone at " + x);
            prev = e;
        }
    }

    @Test
    void geluMatchesKnownValues() {
        assertEquals(0.8413447460685429, JvMath.gelu(1), 1e-14);
        assertEquals(-0.004049694094890284, JvMath.gelu(-3), 1e-14);
        // The same value from the erf reference above: 0.5 x (1 + erf(x / sqrt 2)).
        double viaErf = 0.5 * -3 * (1 + -0.9973002039367398);
        assertEquals(viaErf, JvMath.gelu(-3), 1e-14);
        assertEquals(0.34573123063700655, JvMath.gelu(0.5), 1e-14);
        assertEquals(-0.15426876936299345, JvMath.gelu(-0.5), 1e-14);
        assertEquals(1.9544997361036416, JvMath.gelu(2), 1e-14);
        assertEquals(0.0, JvMath.gelu(0), 0.0);
    }

    /**
     * The tanh approximation that some exports use differs from exact GELU by up to about 4.7e-4
     * (near |x| = 2.7); a conformance kit must be able to tell the two apart.
     */
    @Test
    void tanhApproximationIsDistinguishable() {
        double maxDiff = 0;
        for (int i = -600; i <= 600; i++) {
            double x = i / 100.0;
            double tanh = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            maxDiff = Math.max(maxDiff, Math.abs(tanh - JvMath.gelu(x)));
        }
        assertTrue(maxDiff > 1e-4, "max |tanh-gelu - gelu| = " + maxDiff);
        assertTrue(maxDiff < 1e-3, "the approximation is still close: " + maxDiff);
    }

    @Test
    void geluIsConsistentWithErf() {
        for (int i = -80; i <= 80; i++) {
            double x = i / 10.0;
            assertEquals(0.5 * x * (1 + JvMath.erf(x * SQRT_HALF)), JvMath.gelu(x), 0.0);
        }
    }
}
