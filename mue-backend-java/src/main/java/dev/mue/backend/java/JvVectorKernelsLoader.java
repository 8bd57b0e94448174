package dev.mue.backend.java;

import dev.mue.backend.java.kernels.JvBuffers;
import dev.mue.backend.java.kernels.JvKernels;
import dev.mue.backend.java.kernels.JvParallel;
import dev.mue.backend.java.kernels.JvVectorKernels;

/**
 * Creates the Vector API kernels in a class of their own, so that {@link JvBackend} can be loaded
 * and fall back to scalar kernels where {@code jdk.incubator.vector} is not resolved.
 */
final class JvVectorKernelsLoader {
    private JvVectorKernelsLoader() {
    }

    static JvKernels create(JvParallel parallel, JvBuffers buffers) {
        return new JvVectorKernels(parallel, buffers);
    }
}
