package dev.mue.backend.java.kernels;

/**
 * The keys of one attention head, prepared by {@link JvKernels#keys} for any number of {@link
 * JvKernels#attention} calls: the fast kernels transpose them once, into the panels their score
 * micro-kernel streams, so that keys reused across calls, such as the encoder output's
 * cross-attention keys at every decoding step, are not transposed again. The control keeps a
 * reference to the array it was given, which must then stay unchanged. Only the kernels that made
 * an instance may use it.
 */
public final class JvKeys {
    private final int count;
    private final int headDim;
    final Object owner;
    /** Source array, offset and row stride (the control), or the transposed keys and their row stride. */
    final float[] data;
    final int offset;
    final int stride;

    JvKeys(int count, int headDim, Object owner, float[] data, int offset, int stride) {
        if (count < 0 || headDim <= 0) {
            throw new IllegalArgumentException("keys need a count >= 0 and a positive head dimension, got " + count
                    + " and " + headDim);
        }
        this.count = count;
        this.headDim = headDim;
        this.owner = owner;
        this.data = data;
        this.offset = offset;
        this.stride = stride;
    }

    /** Number of keys. */
    public int count() {
        return count;
    }

    /** Dimensions per key. */
    public int headDim() {
        return headDim;
    }

    /** Throws unless these keys were made by {@code kernels}. */
    void requireOwner(Object kernels) {
        if (owner != kernels) {
            throw new IllegalArgumentException("keys were prepared by other kernels (" + owner + ")");
        }
    }
}
