package dev.mue.backend.java;

import dev.mue.api.model.ResolvedWeights;
import dev.mue.backend.java.kernels.JvKernels;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Layer-level operations of the Java backend over packed rows (no padding: each example's tokens
 * are contiguous rows of one array), built from the kernels.
 */
final class JvOps {
    /** Below this many multiply-adds a loop over heads runs on the calling thread. */
    private static final long PARALLEL_WORK = 1L << 16;

    final JvKernels k;
    final ForkJoinPool pool;
    final int d;
    final int heads;
    final int headDim;
    final float scale;
    final float eps;

    JvOps(JvKernels kernels, ForkJoinPool pool, JvParams params) {
        this.k = kernels;
        this.pool = pool;
        this.d = params.config.dModel();
        this.heads = params.config.heads();
        this.headDim = params.config.headDim();
        this.scale = (float) params.config.queryScale();
        this.eps = (float) params.config.layerNormEps();
    }

    float[] linear(ResolvedWeights.Linear l, float[] x, int rows) {
        float[] y = new float[rows * l.out()];
        k.linear(x, 0, rows, l.in(), l.w(), l.b(), l.out(), y, 0);
        return y;
    }

    float[] layerNorm(ResolvedWeights.Norm ln, float[] x, int rows, int dim) {
        float[] y = new float[rows * dim];
        k.layerNorm(x, 0, rows, dim, ln.w(), ln.b(), eps, y, 0);
        return y;
    }

    /** Runs {@code body} for 0..n-1, in parallel on the pool when the total work is large. */
    void forEach(int n, long workPerItem, IntConsumer body) {
        if (pool == null || n < 2 || n * workPerItem < PARALLEL_WORK || pool.getParallelism() < 2) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
        } else {
            pool.submit(() -> IntStream.range(0, n).parallel().forEach(body)).join();
        }
    }

    /** Multiplies each head's slice of every row by its {@code c_attn} scale, in place. */
    void scaleHeads(float[] x, int rows, float[] cAttn) {
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                float s = cAttn[h];
                int o = r * d + h * headDim;
                for (int c = 0; c < headDim; c++) {
                    x[o + c] *= s;
                }
            }
        }
    }

    void scaleQueries(float[] q) {
        for (int i = 0; i < q.length; i++) {
            q[i] *= scale;
        }
    }

    /** {@code x += y}, elementwise. */
    static void addInPlace(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }

    /** The FFN block: {@code x + fc2(ffn_ln(gelu(fc1(final_ln(x)))))}, in place on {@code x}. */
    void ffnBlock(ResolvedWeights.Layer l, float[] x, int rows) {
        float[] h = layerNorm(l.ffnInLn(), x, rows, d);
        float[] f = linear(l.fc1(), h, rows);
        k.gelu(f, 0, f.length);
        k.layerNorm(f, 0, rows, l.fc1().out(), l.ffnMidLn().w(), l.ffnMidLn().b(), eps, f, 0);
        addInPlace(x, linear(l.fc2(), f, rows));
    }

    /**
     * The output half of an attention block: {@code x + post_ln(out_proj(c_attn * attn))}, in place.
     */
    void attentionOutput(ResolvedWeights.Attention a, ResolvedWeights.Norm postLn, float[] attn, float[] x, int rows) {
        scaleHeads(attn, rows, a.cAttn());
        float[] o = linear(a.o(), attn, rows);
        k.layerNorm(o, 0, rows, d, postLn.w(), postLn.b(), eps, o, 0);
        addInPlace(x, o);
    }

    /**
     * Self-attention within segments: segment {@code s} is rows {@code [off[s], off[s]+len[s])},
     * attending only to itself, with the folded bias {@code bias} ({@code [H, biasRows, biasCols]},
     * the segment's positions being 0..len-1).
     */
    float[] segmentSelfAttention(float[] q, float[] kk, float[] v, int[] off, int[] len, float[] bias, int biasRows,
            int biasCols, boolean causal) {
        int rows = 0;
        for (int l : len) {
            rows += l;
        }
        float[] out = new float[rows * d];
        int segs = off.length;
        long maxLen = 0;
        for (int l : len) {
            maxLen = Math.max(maxLen, l);
        }
        forEach(segs * heads, maxLen * maxLen * headDim * 2, t -> {
            int s = t / heads;
            int h = t % heads;
            int o = off[s] * d + h * headDim;
            k.attention(q, o, d, kk, o, d, v, o, d, len[s], len[s], headDim, bias, h * biasRows * biasCols,
                    biasCols, causal, 0, out, o, d, new float[len[s]]);
        });
        return out;
    }
}
