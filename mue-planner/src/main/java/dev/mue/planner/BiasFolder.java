package dev.mue.planner;

import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResolvedWeights;
import java.util.List;
import dev.mue.api.plan.BiasBlock;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.plan.PositionBiases;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;

/**
 * Constant-folds OFA's position biases: they depend only on sequence positions, never on the
 * input, so the planner computes them once (in double precision) for the plan's largest shapes.
 *
 * <p>Absolute bias: position embeddings through their LayerNorm, then per-stack query and key
 * linears, {@code bias[h, i, j] = (q_i . k_j)_h} with the query scaled like attention queries.
 * Relative bias: per layer, a table row chosen by the 1-D token bucket or the 2-D image offset.
 */
final class BiasFolder {
    private final ModelConfig c;
    private final ResolvedWeights.Positions w;
    private final int heads;
    private final int headDim;

    BiasFolder(ModelConfig config, ResolvedWeights.Positions positions) {
        this.c = config;
        this.w = positions;
        this.heads = config.heads();
        this.headDim = config.headDim();
    }

    PositionBiases fold(ExitPolicy policy, PlanShapes shapes) {
        int t = shapes.maxTextTokens();
        int td = shapes.maxDecoderTokens();
        int img = c.imageTokens();
        double[][] txtPos = layerNorm(rows(w.textPositions(), 0, t), w.textPosLn());
        double[][] imgPos = layerNorm(imageRows(w.imagePositions()), w.imagePosLn());
        double[][] decPos = layerNorm(rows(w.decoderPositions(), 0, td), w.decoderPosLn());
        double[][] encPos = concat(imgPos, txtPos);

        BiasBlock text = null;
        BiasBlock image = null;
        BiasBlock joint = null;
        if (policy.encoderMode() == EncoderMode.DECOMPOSED) {
            float[] textAbs = absolute(txtPos, txtPos, w.encoderPosQ(), w.encoderPosK());
            text = new BiasBlock("encoder.text", heads, t, t, textAbs, tokenBuckets(t, t, 0, 0),
                    tables(w.encoderTokenRel()));
            float[] imgAbs = absolute(imgPos, imgPos, w.encoderPosQ(), w.encoderPosK());
            image = policy.imageRelativeBiasInEncoder()
                    ? new BiasBlock("encoder.image", heads, img, img, imgAbs, imageBuckets(0),
                            tables(w.encoderImageRel()))
                    : new BiasBlock("encoder.image", heads, img, img, imgAbs, null, null);
        } else {
            int n = img + t;
            float[] abs = absolute(encPos, encPos, w.encoderPosQ(), w.encoderPosK());
            int[] bucket = new int[n * n];
            java.util.Arrays.fill(bucket, -1);
            int tokenRows = 2 * c.tokenBucketSize() - 1;
            int[] tb = tokenBuckets(t, t, 0, 0);
            for (int i = 0; i < t; i++) {
                System.arraycopy(tb, i * t, bucket, (img + i) * n + img, t);
            }
            if (policy.imageRelativeBiasInEncoder()) {
                int[] ib = imageBuckets(tokenRows);
                for (int i = 0; i < img; i++) {
                    System.arraycopy(ib, i * img, bucket, i * n, img);
                }
            }
            float[][] tok = tables(w.encoderTokenRel());
            float[][] im = tables(w.encoderImageRel());
            float[][] both = new float[c.encoderLayers()][];
            for (int l = 0; l < both.length; l++) {
                both[l] = new float[tok[l].length + im[l].length];
                System.arraycopy(tok[l], 0, both[l], 0, tok[l].length);
                System.arraycopy(im[l], 0, both[l], tok[l].length, im[l].length);
            }
            joint = new BiasBlock("encoder.joint", heads, n, n, abs, bucket, both);
        }
        BiasBlock decSelf = new BiasBlock("decoder.self", heads, td, td,
                absolute(decPos, decPos, w.decoderSelfPosQ(), w.decoderSelfPosK()),
                tokenBuckets(td, td, 0, 0), tables(w.decoderTokenRel()));
        BiasBlock decCross = new BiasBlock("decoder.cross", heads, td, img + t,
                absolute(decPos, encPos, w.decoderCrossPosQ(), w.decoderCrossPosK()), null, null);
        return new PositionBiases(text, image, joint, decSelf, decCross);
    }

    private int[] tokenBuckets(int nq, int nk, int qStart, int kStart) {
        int[] b = new int[nq * nk];
        for (int i = 0; i < nq; i++) {
            for (int j = 0; j < nk; j++) {
                b[i * nk + j] = PositionBuckets.token((qStart + i) - (kStart + j), c.tokenBucketSize(), c.tokenBucketPositions());
            }
        }
        return b;
    }

    private int[] imageBuckets(int offset) {
        int g = c.imageGrid();
        int n = g * g;
        int[] b = new int[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                b[i * n + j] = offset + PositionBuckets.image(i / g, i % g, j / g, j % g, c.imageBucketSize());
            }
        }
        return b;
    }

    private static float[][] tables(List<float[]> perLayer) {
        return perLayer.toArray(new float[0][]);
    }

    private double[][] rows(float[] e, int from, int count) {
        int d = c.dModel();
        double[][] out = new double[count][d];
        for (int i = 0; i < count; i++) {
            for (int k = 0; k < d; k++) {
                out[i][k] = e[(from + i) * d + k];
            }
        }
        return out;
    }

    private double[][] imageRows(float[] e) {
        int d = c.dModel();
        int g = c.imageGrid();
        double[][] out = new double[g * g][d];
        for (int r = 0; r < g; r++) {
            for (int col = 0; col < g; col++) {
                int id = PositionBuckets.imagePositionId(r, col, c.imageBucketSize());
                for (int k = 0; k < d; k++) {
                    out[r * g + col][k] = e[id * d + k];
                }
            }
        }
        return out;
    }

    private double[][] layerNorm(double[][] x, ResolvedWeights.Norm norm) {
        float[] g = norm.w();
        float[] b = norm.b();
        double eps = c.layerNormEps();
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double[] row = x[i];
            double mean = 0;
            for (double v : row) {
                mean += v;
            }
            mean /= row.length;
            double var = 0;
            for (double v : row) {
                var += (v - mean) * (v - mean);
            }
            var /= row.length;
            double inv = 1 / Math.sqrt(var + eps);
            out[i] = new double[row.length];
            for (int k = 0; k < row.length; k++) {
                out[i][k] = (row[k] - mean) * inv * g[k] + b[k];
            }
        }
        return out;
    }

    private static double[][] concat(double[][] a, double[][] b) {
        double[][] out = new double[a.length + b.length][];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * {@code x W^T + b} in double precision. Written as row updates ({@code acc[o] += x[k] * w[k][o]})
     * over a transposed weight so that the JIT vectorises the inner loop; each output still adds
     * its terms in the order k = 0, 1, ... starting from the bias, so the result is bit for bit the
     * dot-product form's (Java never fuses the multiply and the add).
     */
    private double[][] linear(double[][] x, ResolvedWeights.Linear lin) {
        float[] wt = lin.w();
        float[] bias = lin.b();
        int d = c.dModel();
        double[][] wT = new double[d][d];
        for (int o = 0; o < d; o++) {
            for (int k = 0; k < d; k++) {
                wT[k][o] = wt[o * d + k];
            }
        }
        double[][] out = new double[x.length][d];
        for (int i = 0; i < x.length; i++) {
            double[] acc = out[i];
            double[] xi = x[i];
            for (int o = 0; o < d; o++) {
                acc[o] = bias[o];
            }
            for (int k = 0; k < d; k++) {
                double v = xi[k];
                double[] row = wT[k];
                for (int o = 0; o < d; o++) {
                    acc[o] += v * row[o];
                }
            }
        }
        return out;
    }

    /**
     * The absolute bias {@code [H, nq, nk]}: per head, {@code (q_i * scale) . k_j} over the head's
     * columns, summed in column order (as rows of updates over the transposed keys, for the same
     * reason and with the same bits as {@link #linear}).
     */
    private float[] absolute(double[][] qPos, double[][] kPos, ResolvedWeights.Linear qLinear,
            ResolvedWeights.Linear kLinear) {
        double[][] q = linear(qPos, qLinear);
        double[][] k = linear(kPos, kLinear);
        double scale = c.queryScale();
        int nq = q.length;
        int nk = k.length;
        float[] out = new float[heads * nq * nk];
        double[][] kT = new double[headDim][nk];
        double[] acc = new double[nk];
        for (int h = 0; h < heads; h++) {
            int off = h * headDim;
            for (int j = 0; j < nk; j++) {
                for (int x = 0; x < headDim; x++) {
                    kT[x][j] = k[j][off + x];
                }
            }
            for (int i = 0; i < nq; i++) {
                java.util.Arrays.fill(acc, 0);
                for (int x = 0; x < headDim; x++) {
                    double s = q[i][off + x] * scale;
                    double[] row = kT[x];
                    for (int j = 0; j < nk; j++) {
                        acc[j] += s * row[j];
                    }
                }
                int base = (h * nq + i) * nk;
                for (int j = 0; j < nk; j++) {
                    out[base + j] = (float) acc[j];
                }
            }
        }
        return out;
    }
}
