package dev.mue.importer.torch;

import java.util.Arrays;

/**
 * A tensor as {@code torch._utils._rebuild_tensor_v2} describes it: a strided view into a storage.
 * The constructor proves the view lies inside its storage, so reading it can never run past the
 * data; strides must be non-negative (PyTorch never stores negative ones).
 *
 * @param storage the storage viewed
 * @param offset  element offset of the first element
 * @param shape   sizes, outermost first
 * @param stride  element strides per dimension
 */
public record TensorRef(StorageRef storage, long offset, int[] shape, long[] stride) {

    /**
     * Checks the view against its storage.
     *
     * @throws IllegalArgumentException naming the violated bound
     */
    public TensorRef {
        shape = shape.clone();
        stride = stride.clone();
        if (shape.length != stride.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " and stride "
                    + Arrays.toString(stride) + " differ in rank");
        }
        if (offset < 0) {
            throw new IllegalArgumentException("negative storage offset " + offset);
        }
        long numel = 1;
        long last = offset; // index of the last element the view touches
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("negative size in shape " + Arrays.toString(shape));
            }
            if (stride[i] < 0) {
                throw new IllegalArgumentException("negative stride in " + Arrays.toString(stride));
            }
            numel = Math.multiplyExact(numel, (long) shape[i]);
            if (shape[i] > 0) {
                last = Math.addExact(last, Math.multiplyExact(stride[i], (long) shape[i] - 1));
            }
        }
        if (numel > 0 && last >= storage.numel()) {
            throw new IllegalArgumentException("view (offset " + offset + ", shape " + Arrays.toString(shape)
                    + ", stride " + Arrays.toString(stride) + ") reaches element " + last + " of a storage of "
                    + storage.numel() + " elements");
        }
    }

    /** Number of elements, the product of the shape. */
    public long numel() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** A copy of the shape. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** A copy of the strides. */
    @Override
    public long[] stride() {
        return stride.clone();
    }

    /** Whether the view is row-major contiguous (then it is one slice of the storage). */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** Whether {@code o} views exactly the same elements of the same storage. */
    public boolean sameView(TensorRef o) {
        return storage.equals(o.storage) && offset == o.offset && Arrays.equals(shape, o.shape)
                && Arrays.equals(stride, o.stride);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorRef t && sameView(t);
    }

    @Override
    public int hashCode() {
        return storage.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "TensorRef[" + storage.dtype() + " " + Arrays.toString(shape) + "]";
    }
}
