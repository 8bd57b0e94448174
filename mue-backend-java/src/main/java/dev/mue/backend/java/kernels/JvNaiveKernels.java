package dev.mue.backend.java.kernels;

/**
 * The control implementation of {@link JvKernels}: straightforward scalar loops, single-threaded,
 * no blocking, so that its correctness can be read off the code. Tests compare the fast kernels
 * against it.
 */
public final class JvNaiveKernels implements JvKernels {

    /** The control kernels; stateless. */
    public JvNaiveKernels() {
    }

    @Override
    public String name() {
        return "naive";
    }

    @Override
    public String toString() {
        return name();
    }

    /** Owner of the weights this control packs: they are kept as given. */
    private static final Object LAYOUT = "as given";

    @Override
    public JvWeights packLinear(float[] w, int out, int in) {
        JvWeights.check(w, out, in, 1);
        return new JvWeights(w, out, in, 1, LAYOUT, null, 0);
    }

    @Override
    public JvWeights packConv(float[] w, int out, int inC, int kernel) {
        JvWeights.check(w, out, inC, kernel);
        return new JvWeights(w, out, inC, kernel, LAYOUT, null, 0);
    }

    @Override
    public void linear(float[] x, int xOff, int rows, JvWeights weights, float[] bias, float[] y, int yOff) {
        weights.requireOwner(LAYOUT);
        float[] w = weights.source;
        int in = weights.in();
        int out = weights.out();
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float s = 0;
                for (int i = 0; i < in; i++) {
                    s += x[xOff + r * in + i] * w[o * in + i];
                }
                y[yOff + r * out + o] = s + (bias == null ? 0 : bias[o]);
            }
        }
    }

    @Override
    public void layerNorm(float[] x, int xOff, int rows, int dim, float[] gamma, float[] beta, float eps, float[] y,
            int yOff) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * dim;
            double mean = 0;
            for (int i = 0; i < dim; i++) {
                mean += x[xo + i];
            }
            mean /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) {
                double dv = x[xo + i] - mean;
                var += dv * dv;
            }
            var /= dim;
            double inv = 1 / Math.sqrt(var + eps);
            int yo = yOff + r * dim;
            for (int i = 0; i < dim; i++) {
                y[yo + i] = (float) ((x[xo + i] - mean) * inv * gamma[i] + beta[i]);
            }
        }
    }

    @Override
    public void gelu(float[] x, int off, int len) {
        for (int i = off; i < off + len; i++) {
            x[i] = (float) JvMath.gelu(x[i]);
        }
    }

    @Override
    public JvKeys keys(float[] k, int kOff, int kStride, int nk, int headDim) {
        return new JvKeys(nk, headDim, LAYOUT, k, kOff, kStride);
    }

    @Override
    public void attention(float[] q, int qOff, int qStride, JvKeys keys, float[] v, int vOff, int vStride, int nq,
            float[] bias, int biasOff, int biasStride, boolean causal, int causalOffset, float[] out, int outOff,
            int outStride) {
        keys.requireOwner(LAYOUT);
        float[] k = keys.data;
        int kOff = keys.offset;
        int kStride = keys.stride;
        int nk = keys.count();
        int headDim = keys.headDim();
        float[] scratch = new float[nk];
        for (int i = 0; i < nq; i++) {
            int limit = causal ? (int) Math.max(0, Math.min(nk, (long) i + causalOffset + 1)) : nk;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < limit; j++) {
                float s = 0;
                for (int c = 0; c < headDim; c++) {
                    s += q[qOff + i * qStride + c] * k[kOff + j * kStride + c];
                }
                if (bias != null) {
                    s += bias[biasOff + i * biasStride + j];
                }
                scratch[j] = s;
                max = Math.max(max, s);
            }
            float sum = 0;
            for (int j = 0; j < limit; j++) {
                scratch[j] = (float) Math.exp(scratch[j] - max);
                sum += scratch[j];
            }
            int oo = outOff + i * outStride;
            for (int c = 0; c < headDim; c++) {
                out[oo + c] = 0;
            }
            for (int j = 0; j < limit; j++) {
                float p = scratch[j] / sum;
                for (int c = 0; c < headDim; c++) {
                    out[oo + c] += p * v[vOff + j * vStride + c];
                }
            }
        }
    }

    @Override
    public void conv2d(float[] in, int h, int w, JvWeights weights, int stride, int pad, float[] scale, float[] shift,
            float[] residual, boolean relu, float[] out, int outH, int outW) {
        weights.requireOwner(LAYOUT);
        float[] weight = weights.source;
        int inC = weights.inChannels();
        int kernel = weights.kernel();
        int outC = weights.out();
        for (int oy = 0; oy < outH; oy++) {
            for (int ox = 0; ox < outW; ox++) {
                for (int oc = 0; oc < outC; oc++) {
                    float s = 0;
                    for (int ic = 0; ic < inC; ic++) {
                        for (int ky = 0; ky < kernel; ky++) {
                            int iy = oy * stride + ky - pad;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < kernel; kx++) {
                                int ix = ox * stride + kx - pad;
                                if (ix < 0 || ix >= w) {
                                    continue;
                                }
                                s += weight[((oc * inC + ic) * kernel + ky) * kernel + kx]
                                        * in[(iy * w + ix) * inC + ic];
                            }
                        }
                    }
                    int at = (oy * outW + ox) * outC + oc;
                    float v = s * (scale == null ? 1 : scale[oc]) + (shift == null ? 0 : shift[oc]);
                    if (residual != null) {
                        v += residual[at];
                    }
                    out[at] = relu ? Math.max(0f, v) : v;
                }
            }
        }
    }

    @Override
    public double cosine(float[] a, int aOff, float[] b, int bOff, int len) {
        return dev.mue.api.policy.Similarity.cosine(a, aOff, b, bOff, len);
    }
}
