package dev.mue.api.safetensors;

import dev.mue.api.tensor.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * Describes one tensor of a safetensors file as its header declares it, without its data.
 *
 * @param name  the tensor's key
 * @param dtype the on-disk element type
 * @param shape dimensions, outermost first; entries may be zero (an empty tensor)
 * @param begin offset of the first byte, relative to the start of the data area
 * @param end   offset one past the last byte, relative to the start of the data area
 */
public record TensorInfo(String name, DType dtype, int[] shape, long begin, long end) {

    /** Checks the invariants that {@link SafetensorsFile} has already established for header entries. */
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape "
                        + Arrays.toString(shape));
            }
        }
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("tensor '" + name + "': invalid byte range [" + begin + ", "
                    + end + "]");
        }
    }

    /** A copy of the shape. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements, the product of the shape (1 for a scalar, 0 if any dimension is 0). */
    public long elementCount() {
        long n = 1;
        for (int d : shape) {
            // Overflow is impossible for validated entries (the byte count fits the file) but a
            // hand-built record could overflow, so fail loudly rather than wrap.
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Number of bytes the data occupies, {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return "TensorInfo[" + name + " " + dtype + " " + Arrays.toString(shape) + " @" + begin + ".." + end + "]";
    }
}
