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
     * Prepares the weights of a linear layer, given {@code [out, in]} as in PyTorch, for {@link
     * #linear(float[], int, int, JvWeights, float[], float[], int)}; done once, at prepare time.
     */
    JvWeights packLinear(float[] w, int out, int in);

    /**
     * Prepares convolution weights, given {@code [out, inC, kernel, kernel]} as in PyTorch, for
     * {@link #conv2d}; done once, at prepare time.
     */
    JvWeights packConv(float[] w, int out, int inC, int kernel);

    /**
     * Prepares convolution weights, given {@code [out, inC, kernel, kernel]}, for {@link #conv2d}
     * calls of this stride and padding only, which lets the kernels pick an algorithm for the shape;
     * {@link #conv2d} rejects the weights for any other stride or padding when the kernels did.
     * Done once, at prepare time.
     */
    default JvWeights packConv(float[] w, int out, int inC, int kernel, int stride, int pad) {
        return packConv(w, out, inC, kernel);
    }

    /**
     * A linear layer: {@code y[r, o] = bias[o] + sum_i x[r, i] * w[o, i]} for {@code rows} rows of
     * {@code w.in()} features into {@code w.out()}, row-major from the offsets.
     *
     * @param bias may be null for no bias
     */
    void linear(float[] x, int xOff, int rows, JvWeights w, float[] bias, float[] y, int yOff);

    /**
     * A linear layer over weights given {@code [out, in]}; packs them for this one call, so layers
     * that run more than once pack their weights with {@link #packLinear} instead.
     *
     * @param bias may be null for no bias
     */
    default void linear(float[] x, int xOff, int rows, int in, float[] w, float[] bias, int out, float[] y,
            int yOff) {
        linear(x, xOff, rows, packLinear(w, out, in), bias, y, yOff);
    }

    /**
     * LayerNorm over rows of width {@code dim}: {@code (x - mean) / sqrt(var + eps) * gamma + beta},
     * biased variance; {@code x} and {@code y} may be the same array at the same offset.
     */
    void layerNorm(float[] x, int xOff, int rows, int dim, float[] gamma, float[] beta, float eps, float[] y,
            int yOff);

    /** Exact GELU, {@code 0.5 x (1 + erf(x / sqrt 2))}, in place over {@code [off, off + len)}. */
    void gelu(float[] x, int off, int len);

    /**
     * Prepares the keys of one attention head, rows of {@code headDim} floats {@code kStride} apart
     * from {@code kOff}, for {@link #attention(float[], int, int, JvKeys, float[], int, int, int,
     * float[], int, int, boolean, int, float[], int, int)}: once per set of keys, however many queries
     * and calls use them. The control keeps a reference to {@code k}, which must stay unchanged.
     */
    JvKeys keys(float[] k, int kOff, int kStride, int nk, int headDim);

    /**
     * Scaled dot-product attention for one head of one example. For query {@code i} and key
     * {@code j}: {@code s = q_i . k_j + bias[i, j]} (queries are pre-scaled); keys
     * {@code j > i + causalOffset} are masked when {@code causal}; softmax over the allowed keys;
     * {@code out_i = sum_j p_ij v_j}, or zero when no key is allowed.
     *
     * @param bias {@code [nq, biasStride]} row-major from {@code biasOff}, or null for none; a
     *             stride of 0 gives every query the same bias row
     */
    void attention(float[] q, int qOff, int qStride, JvKeys keys, float[] v, int vOff, int vStride, int nq,
            float[] bias, int biasOff, int biasStride, boolean causal, int causalOffset, float[] out, int outOff,
            int outStride);

    /**
     * {@link #attention(float[], int, int, JvKeys, float[], int, int, int, float[], int, int, boolean,
     * int, float[], int, int) Attention} over keys given as rows, prepared for this one call.
     *
     * @param bias {@code [nq, biasStride]} row-major from {@code biasOff}, or null for none
     */
    default void attention(float[] q, int qOff, int qStride, float[] k, int kOff, int kStride, float[] v, int vOff,
            int vStride, int nq, int nk, int headDim, float[] bias, int biasOff, int biasStride, boolean causal,
            int causalOffset, float[] out, int outOff, int outStride) {
        attention(q, qOff, qStride, keys(k, kOff, kStride, nk, headDim), v, vOff, vStride, nq, bias, biasOff,
                biasStride, causal, causalOffset, out, outOff, outStride);
    }

    /**
     * 2-D convolution of one image in channels-last layout ({@code [h, w, inC]}, the input channels
     * of {@code weight}), with the BatchNorm affine, a residual and a ReLU applied to each output:
     * {@code out[y, x, oc] = relu?(conv * scale[oc] + shift[oc] + residual[y, x, oc])}, where
     * {@code conv = sum w[oc, ic, ky, kx] * in[y*stride + ky - pad, x*stride + kx - pad, ic]} (zero
     * outside the image); output {@code [outH, outW, out]}.
     *
     * @param scale    per output channel, or null for 1
     * @param shift    per output channel, or null for 0
     * @param residual {@code [outH, outW, out]} added after the affine, or null; may be {@code out}
     *                 itself, the output then written over it
     */
    void conv2d(float[] in, int h, int w, JvWeights weight, int stride, int pad, float[] scale, float[] shift,
            float[] residual, boolean relu, float[] out, int outH, int outW);

    /**
     * Cosine similarity of two vectors of {@code len} floats, accumulated in double; 1 when both are
     * zero, 0 when exactly one is.
     */
    double cosine(float[] a, int aOff, float[] b, int bOff, int len);

    /** A short name for logs and benchmarks. */
    String name();
}
