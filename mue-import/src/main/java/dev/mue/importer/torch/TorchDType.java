package dev.mue.importer.torch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The element types of PyTorch's typed storages ({@code torch.FloatStorage}, ...), as a pickle names
 * them. Floating types convert to float32; the integer ones appear only in buffers the importer skips.
 */
public enum TorchDType {
    /** {@code torch.FloatStorage}: IEEE binary32. */
    F32("FloatStorage", 4, true),
    /** {@code torch.HalfStorage}: IEEE binary16. */
    F16("HalfStorage", 2, true),
    /** {@code torch.BFloat16Storage}: the upper half of a binary32. */
    BF16("BFloat16Storage", 2, true),
    /** {@code torch.DoubleStorage}: IEEE binary64, narrowed to float32 (rounding to nearest). */
    F64("DoubleStorage", 8, true),
    /** {@code torch.LongStorage}: int64. */
    I64("LongStorage", 8, false),
    /** {@code torch.IntStorage}: int32. */
    I32("IntStorage", 4, false),
    /** {@code torch.ShortStorage}: int16. */
    I16("ShortStorage", 2, false),
    /** {@code torch.CharStorage}: int8. */
    I8("CharStorage", 1, false),
    /** {@code torch.ByteStorage}: uint8. */
    U8("ByteStorage", 1, false),
    /** {@code torch.BoolStorage}: one byte per element. */
    BOOL("BoolStorage", 1, false);

    private final String storageClass;
    private final int elementSize;
    private final boolean floating;

    TorchDType(String storageClass, int elementSize, boolean floating) {
        this.storageClass = storageClass;
        this.elementSize = elementSize;
        this.floating = floating;
    }

    /** The storage class in module {@code torch}, e.g. {@code FloatStorage}. */
    public String storageClass() {
        return storageClass;
    }

    /** Bytes per element. */
    public int elementSize() {
        return elementSize;
    }

    /** Whether the values are floating point (and so can be weights). */
    public boolean isFloating() {
        return floating;
    }

    /** Element {@code i} of little-endian storage bytes as float32; only for floating types. */
    float floatAt(ByteBuffer le, long i) {
        int at = Math.toIntExact(i * elementSize);
        return switch (this) {
            case F32 -> le.getFloat(at);
            case F16 -> Float.float16ToFloat(le.getShort(at));
            case BF16 -> Float.intBitsToFloat((le.getShort(at) & 0xFFFF) << 16);
            case F64 -> (float) le.getDouble(at);
            default -> throw new IllegalStateException(this + " is not a floating type");
        };
    }

    /** Wraps storage bytes for {@link #floatAt}. */
    static ByteBuffer littleEndian(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
