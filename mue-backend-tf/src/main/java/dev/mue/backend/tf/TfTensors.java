package dev.mue.backend.tf;

import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;

/** Copies between Java arrays and TF tensors. */
final class TfTensors {
    private TfTensors() {
    }

    static TFloat32 floats(float[] data, long... shape) {
        return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(data, true, false));
    }

    static TInt32 ints(int... data) {
        return TInt32.vectorOf(data);
    }

    static float[] floats(Tensor t) {
        TFloat32 f = (TFloat32) t;
        float[] out = new float[Math.toIntExact(f.size())];
        f.copyTo(DataBuffers.of(out, false, false));
        return out;
    }

    static int[] ints(Tensor t) {
        TInt32 f = (TInt32) t;
        int[] out = new int[Math.toIntExact(f.size())];
        f.copyTo(DataBuffers.of(out, false, false));
        return out;
    }

    static double[] doubles(Tensor t) {
        TFloat64 f = (TFloat64) t;
        double[] out = new double[Math.toIntExact(f.size())];
        f.copyTo(DataBuffers.of(out, false, false));
        return out;
    }
}
