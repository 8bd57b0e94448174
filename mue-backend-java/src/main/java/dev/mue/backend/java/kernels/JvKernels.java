package dev.mue.backend.java.kernels;

/**
 * The compute kernels the Java backend runs on: row-major float32 arrays with explicit offsets.
 *
 * <p>Two implementations: {@link JvNaiveKernels}, plain scalar loops that are the control, and
 * {@link JvVectorKernels}, the Vector API fast path that tests compare against the control.
 * Every kernel computes each output element with a reduction order that depends only on that
 * element's inputs, never on the number of rows in the call, the row offset or the thread count:
 * a batch therefore gives bitwise the results of single-example calls.
 */
public interface JvKernels {

    /**
     * A linear layer: {@code y[r, o] = bias[o] + sum_i x[r, i] * w[o, i]} for {@code rows} rows,
     * with {@code w} laid out {@code [out, in]} as in PyTorch.
     *
     * @param bias may be null for no bias
     */
    void linear(float[] x, int xOff, int rows, int in, float[] w, float[] bias, int out, float[] y, int yOff);

    /**
     * LayerNorm over rows of width {@code dim}: {@code (x - mean) / sqrt(var + eps) * gamma + beta},
     * biased variance; {@code x} and {@code y} may be the same array at the same offset.
     */
    void layerNorm(float[] x, int xOff, int rows, int dim, float[] gamma, float[] beta, float eps, float[] y,
            int yOff);

    /** Exact GELU, {@code 0.5 x (1 + erf(x / sqrt 2))}, in place over {@code [off, off + len)}. */
    void gelu(float[] x, int off, int len);

    /**
     * Scaled dot-product attention for one head of one example. For query {@code i} and key
     * {@code j}: {@code s = q_i . k_j + bias[i, j]} (queries are pre-scaled); keys
     * {@code j > i + causalOffset} are masked when {@code causal}; softmax over the allowed keys;
     * {@code out_i = sum_j p_ij v_j}.
     *
     * @param bias        {@code [nq, biasStride]} row-major from {@code biasOff}, or null for none
     * @param scratch     at least {@code nk} floats
     */
    void attention(float[] q, int qOff, int qStride, float[] k, int kOff, int kStride, float[] v, int vOff,
            int vStride, int nq, int nk, int headDim, float[] bias, int biasOff, int biasStride, boolean causal,
            int causalOffset, float[] out, int outOff, int outStride, float[] scratch);

    /**
     * 2-D convolution of one CHW image, no bias: {@code out[oc, y, x] = sum w[oc, ic, ky, kx] *
     * in[ic, y*stride + ky - pad, x*stride + kx - pad]} (zero outside), output {@code [outC, outH, outW]}.
     */
    void conv2d(float[] in, int inC, int h, int w, float[] weight, int outC, int kernel, int stride, int pad,
            float[] out, int outH, int outW);

    /**
     * Cosine similarity of two vectors of {@code len} floats, accumulated in double; 1 when both are
     * zero, 0 when exactly one is.
     */
    double cosine(float[] a, int aOff, float[] b, int bOff, int len);

    /** A short name for logs and benchmarks. */
    String name();
}
