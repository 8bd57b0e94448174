package dev.mue.api.tensor;

import dev.mue.api.ModelFormatException;

/**
 * The element types weights may be stored in on disk; every one is widened to float32 on load.
 *
 * <p>The static helpers convert single values between float32 and the two 16-bit formats, both
 * rounding to nearest, ties to even, as PyTorch does when it casts weights before saving them.
 */
public enum DType {
    /** IEEE 754 binary32. */
    F32(4, "F32"),
    /** IEEE 754 binary16 (half precision). */
    F16(2, "F16"),
    /** bfloat16: the upper 16 bits of a binary32. */
    BF16(2, "BF16");

    private final int byteSize;
    private final String safetensorsName;

    DType(int byteSize, String safetensorsName) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes one element occupies on disk. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype's name in a safetensors header, e.g. {@code "BF16"}. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /**
     * The dtype a safetensors header names.
     *
     * @param name    the header's {@code dtype} value
     * @param context where the name was found (file and tensor), for the error message
     * @throws ModelFormatException if the name is not one of F32, F16, BF16
     */
    public static DType fromSafetensorsName(String name, String context) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        throw new ModelFormatException(context + ": unknown or unsupported dtype '" + name
                + "' (mue reads F32, F16 and BF16)");
    }

    /** Widens an IEEE binary16 bit pattern to float32; exact for every input, NaN stays NaN. */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /**
     * Narrows a float32 to an IEEE binary16 bit pattern, rounding to nearest, ties to even;
     * values beyond the half range become infinity and tiny values become subnormals or zero.
     */
    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }

    /** Widens a bfloat16 bit pattern to float32; exact, because bfloat16 is a truncated binary32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Narrows a float32 to a bfloat16 bit pattern, rounding to nearest, ties to even. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            // Plain truncation could clear every mantissa bit and turn a NaN into infinity, so keep
            // the sign and force a quiet-NaN mantissa bit.
            return (short) ((bits >>> 16) | 0x0040);
        }
        // Adding 0x7FFF plus the lowest kept bit rounds half-way cases towards an even result; a
        // carry out of the mantissa correctly bumps the exponent, up to infinity.
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
