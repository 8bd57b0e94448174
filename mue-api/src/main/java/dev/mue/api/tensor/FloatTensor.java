package dev.mue.api.tensor;

import java.util.Arrays;

/**
 * A named, dense, row-major float32 tensor: the in-memory form of every weight.
 *
 * <p>Weights are stored on disk as F32, F16 or BF16 and converted to float32 when loaded. The
 * record does not copy {@code data}; treat it as read-only once built.
 *
 * @param name  the tensor's key, e.g. {@code encoder.layers.0.fc1.weight}
 * @param shape dimensions, outermost first; every entry positive (a scalar has shape {@code []})
 * @param data  {@code product(shape)} values, row-major
 */
public record FloatTensor(String name, int[] shape, float[] data) {

    /** Validates that the shape is positive and matches the data length. */
    public FloatTensor {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("tensor name must not be empty");
        }
        shape = shape.clone();
        long n = 1;
        for (int d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor " + name + ": non-positive dimension in shape "
                        + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape)
                    + " needs " + n + " values but " + data.length + " were given");
        }
    }

    /** Number of elements, the product of the shape. */
    public int size() {
        return data.length;
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public int dim(int i) {
        return shape[i];
    }

    /** A copy of the shape. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** The shape as text, e.g. {@code [256, 64]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatTensor t && name.equals(t.name) && Arrays.equals(shape, t.shape)
                && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "FloatTensor[" + name + " " + shapeString() + "]";
    }
}
