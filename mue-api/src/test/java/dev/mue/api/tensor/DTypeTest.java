package dev.mue.api.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.ModelFormatException;
import org.junit.jupiter.api.Test;

class DTypeTest {

    @Test
    void namesAndSizesMatchTheSafetensorsSpec() {
        assertEquals(4, DType.F32.byteSize());
        assertEquals(2, DType.F16.byteSize());
        assertEquals(2, DType.BF16.byteSize());
        for (DType t : DType.values()) {
            assertEquals(t, DType.fromSafetensorsName(t.safetensorsName(), "ctx"));
        }
        assertEquals("BF16", DType.BF16.safetensorsName());
    }

    @Test
    void unknownDtypeNamesTheDtypeAndTheContext() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> DType.fromSafetensorsName("F8_E9", "w.safetensors: tensor 'x'"));
        assertTrue(e.getMessage().contains("F8_E9"), e.getMessage());
        assertTrue(e.getMessage().contains("w.safetensors: tensor 'x'"), e.getMessage());
        // Names are case-sensitive in the spec.
        assertThrows(ModelFormatException.class, () -> DType.fromSafetensorsName("f32", "ctx"));
    }

    @Test
    void f16KnownBitPatterns() {
        assertEquals((short) 0x3C00, DType.floatToF16(1.0f));
        assertEquals((short) 0xC000, DType.floatToF16(-2.0f));
        assertEquals((short) 0x7BFF, DType.floatToF16(65504f));
        assertEquals((short) 0x0001, DType.floatToF16(0x1p-24f)); // smallest subnormal
        assertEquals((short) 0x03FF, DType.floatToF16(1023 * 0x1p-24f)); // largest subnormal
        assertEquals((short) 0x7C00, DType.floatToF16(Float.POSITIVE_INFINITY));
        assertEquals((short) 0xFC00, DType.floatToF16(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x8000, DType.floatToF16(-0.0f));
        assertTrue(Float.isNaN(DType.f16ToFloat(DType.floatToF16(Float.NaN))));
        assertEquals(0x1p-24f, DType.f16ToFloat((short) 0x0001));
        assertEquals(65504f, DType.f16ToFloat((short) 0x7BFF));
    }

    @Test
    void f16RoundsToNearestEven() {
        // 1 + 2^-11 lies exactly between 0x3C00 and 0x3C01: the even one wins.
        assertEquals((short) 0x3C00, DType.floatToF16(1f + 0x1p-11f));
        // 1 + 3 * 2^-11 lies exactly between 0x3C01 and 0x3C02.
        assertEquals((short) 0x3C02, DType.floatToF16(1f + 3 * 0x1p-11f));
        // Just above half-way rounds up.
        assertEquals((short) 0x3C01, DType.floatToF16(1f + 0x1p-11f + 0x1p-20f));
        // Half-way between the largest finite half (65504) and 65536 rounds to infinity (even).
        assertEquals((short) 0x7C00, DType.floatToF16(65520f));
        assertEquals((short) 0x7BFF, DType.floatToF16(65519f));
        // Subnormal ties: 2^-25 is half-way between 0 and 2^-24; 3 * 2^-25 between 1 and 2 units.
        assertEquals((short) 0x0000, DType.floatToF16(0x1p-25f));
        assertEquals((short) 0x0002, DType.floatToF16(3 * 0x1p-25f));
    }

    @Test
    void everyFiniteF16SurvivesARoundTrip() {
        for (int h = 0; h < 0x10000; h++) {
            float f = DType.f16ToFloat((short) h);
            if (!Float.isNaN(f)) {
                assertEquals((short) h, DType.floatToF16(f), "f16 0x" + Integer.toHexString(h));
            }
        }
    }

    @Test
    void bf16KnownBitPatternsAndRounding() {
        assertEquals((short) 0x3F80, DType.floatToBf16(1.0f));
        assertEquals(1.0f, DType.bf16ToFloat((short) 0x3F80));
        assertEquals(-2.0f, DType.bf16ToFloat((short) 0xC000));
        // 1 + 2^-8 is half-way between 0x3F80 and 0x3F81: ties to even.
        assertEquals((short) 0x3F80, DType.floatToBf16(1f + 0x1p-8f));
        assertEquals((short) 0x3F82, DType.floatToBf16(1f + 3 * 0x1p-8f));
        assertEquals((short) 0x3F81, DType.floatToBf16(1f + 0x1p-8f + 0x1p-20f));
        // Rounding carries into the exponent and, at the top, to infinity.
        assertEquals((short) 0x4000, DType.floatToBf16(Math.nextDown(2f)));
        assertEquals((short) 0x7F80, DType.floatToBf16(Float.MAX_VALUE));
        assertEquals((short) 0xFF80, DType.floatToBf16(Float.NEGATIVE_INFINITY));
    }

    @Test
    void bf16KeepsNaNsThatTruncationWouldTurnIntoInfinity() {
        float nanWithLowPayload = Float.intBitsToFloat(0x7F800001);
        assertTrue(Float.isNaN(nanWithLowPayload));
        assertTrue(Float.isNaN(DType.bf16ToFloat(DType.floatToBf16(nanWithLowPayload))));
        assertTrue(Float.isNaN(DType.bf16ToFloat(DType.floatToBf16(Float.NaN))));
    }

    @Test
    void everyFiniteBf16SurvivesARoundTrip() {
        for (int h = 0; h < 0x10000; h++) {
            float f = DType.bf16ToFloat((short) h);
            if (!Float.isNaN(f)) {
                assertEquals((short) h, DType.floatToBf16(f), "bf16 0x" + Integer.toHexString(h));
            }
        }
    }
}
