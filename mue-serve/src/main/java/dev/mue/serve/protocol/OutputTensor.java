package dev.mue.serve.protocol;

import java.util.List;

/**
 * One output of an inference response: BYTES elements as strings, or FP32 values, row-major.
 *
 * @param name     the output's name
 * @param datatype BYTES or FP32
 * @param shape    its shape
 * @param strings  the elements of a BYTES output (UTF-8 text), else null
 * @param floats   the values of an FP32 output, else null
 */
public record OutputTensor(String name, Datatype datatype, long[] shape, List<String> strings, float[] floats) {
    /** Checks that the data matches the datatype and the shape. */
    public OutputTensor {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        shape = shape.clone();
        if (datatype == Datatype.BYTES) {
            strings = List.copyOf(strings);
            if (floats != null || strings.size() != n) {
                throw new IllegalArgumentException("BYTES output " + name + " needs " + n + " strings");
            }
        } else {
            floats = floats.clone();
            if (strings != null || floats.length != n) {
                throw new IllegalArgumentException("FP32 output " + name + " needs " + n + " floats");
            }
        }
    }

    /** A BYTES output of shape [n]. */
    public static OutputTensor bytes(String name, List<String> values) {
        return new OutputTensor(name, Datatype.BYTES, new long[] {values.size()}, values, null);
    }

    /** An FP32 output of the given shape. */
    public static OutputTensor fp32(String name, long[] shape, float[] values) {
        return new OutputTensor(name, Datatype.FP32, shape, null, values);
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** A copy of the FP32 values, or null for BYTES. */
    @Override
    public float[] floats() {
        return floats == null ? null : floats.clone();
    }
}
