package dev.mue.backend.java;

import dev.mue.api.model.ResolvedWeights;
import dev.mue.backend.java.kernels.JvBuffers;
import dev.mue.backend.java.kernels.JvKernels;
import dev.mue.backend.java.kernels.JvKeys;
import dev.mue.backend.java.kernels.JvParallel;
import java.util.function.IntConsumer;

/**
 * Layer-level operations of the Java backend over packed rows (no padding: each example's tokens
 * are contiguous rows of one array), built from the kernels. Work that splits into independent
 * pieces (attention heads, row ranges of a norm) runs on the backend's pool; the kernels' results
 * do not depend on how it is split.
 */
final class JvOps {
    /** Below this many multiply-adds (or element operations) a loop runs on the calling thread. */
    private static final long PARALLEL_WORK = 1L << 16;
    /** Rows per task of a parallel row-wise operation. */
    private static final int ROW_CHUNK = 32;
    /** Attention tasks per thread, when query blocks are needed to give every thread work. */
    private static final int TASKS_PER_THREAD = 4;

    final JvKernels k;
    final JvParallel parallel;
    final int d;
    final int heads;
    final int headDim;
    final float scale;
    final float eps;
    /** Recycled arrays for outputs and temporaries (see {@link JvBuffers}). */
    final JvBuffers buffers;

    JvOps(JvKernels kernels, JvParallel parallel, JvParams params, JvBuffers buffers) {
        this.k = kernels;
        this.parallel = parallel;
        this.buffers = buffers;
        this.d = params.config.dModel();
        this.heads = params.config.heads();
        this.headDim = params.config.headDim();
        this.scale = (float) params.config.queryScale();
        this.eps = (float) params.config.layerNormEps();
    }

    float[] linear(JvParams.Dense l, float[] x, int rows) {
        return linear(l, x, 0, rows);
    }

    float[] linear(JvParams.Dense l, float[] x, int xOff, int rows) {
        float[] y = buffers.take(rows * l.out());
        k.linear(x, xOff, rows, l.w(), l.b(), y, 0);
        return y;
    }

    float[] layerNorm(ResolvedWeights.Norm ln, float[] x, int rows, int dim) {
        float[] y = buffers.take(rows * dim);
        layerNorm(ln, x, rows, dim, y);
        return y;
    }

    /** LayerNorm of {@code rows} rows of {@code x} into {@code y} (may be {@code x}), row ranges in parallel. */
    void layerNorm(ResolvedWeights.Norm ln, float[] x, int rows, int dim, float[] y) {
        rowChunks(rows, (long) dim * 8,
                (r0, n) -> k.layerNorm(x, r0 * dim, n, dim, ln.w(), ln.b(), eps, y, r0 * dim));
    }

    /** Runs {@code body} for 0..n-1, in parallel (see {@link JvParallel}) when the total work is large. */
    void forEach(int n, long workPerItem, IntConsumer body) {
        if (n * workPerItem < PARALLEL_WORK) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
        } else {
            parallel.forEach(n, body);
        }
    }

    /**
     * Runs {@code body(r0, n)} over the rows {@code [0, rows)} in chunks of {@value #ROW_CHUNK}, in
     * parallel when {@code workPerRow * rows} is large: for elementwise and row-wise operations whose
     * result does not depend on how the rows are split.
     */
    void rowChunks(int rows, long workPerRow, RowRange body) {
        int chunks = (rows + ROW_CHUNK - 1) / ROW_CHUNK;
        forEach(chunks, ROW_CHUNK * workPerRow, c -> {
            int r0 = c * ROW_CHUNK;
            body.run(r0, Math.min(rows, r0 + ROW_CHUNK) - r0);
        });
    }

    /** A range of rows, {@code [r0, r0 + n)}. */
    @FunctionalInterface
    interface RowRange {
        void run(int r0, int n);
    }

    /** Multiplies each head's slice of rows {@code [r0, r0 + n)} by its {@code c_attn} scale, in place. */
    private void scaleHeads(float[] x, int r0, int n, float[] cAttn) {
        for (int r = r0; r < r0 + n; r++) {
            for (int h = 0; h < heads; h++) {
                float s = cAttn[h];
                int o = r * d + h * headDim;
                for (int c = 0; c < headDim; c++) {
                    x[o + c] *= s;
                }
            }
        }
    }

    /** Multiplies the first {@code d} values of each of {@code rows} rows, {@code stride} apart, by the query scale. */
    void scaleQueries(float[] q, int rows, int stride) {
        rowChunks(rows, d, (r0, n) -> {
            for (int r = r0; r < r0 + n; r++) {
                for (int i = r * stride; i < r * stride + d; i++) {
                    q[i] *= scale;
                }
            }
        });
    }

    /** {@code y[i] = x[i] + y[i]} over {@code [from, to)}: a residual connection into the block's output. */
    private static void addResidual(float[] x, float[] y, int from, int to) {
        for (int i = from; i < to; i++) {
            y[i] = x[i] + y[i];
        }
    }

    /**
     * The FFN block: {@code x + fc2(ffn_ln(gelu(fc1(final_ln(x)))))}, into a new array ({@code x} is
     * left as it is).
     */
    float[] ffnBlock(ResolvedWeights.Layer l, JvParams.Packed p, float[] x, int rows) {
        float[] h = layerNorm(l.ffnInLn(), x, rows, d);
        float[] f = linear(p.fc1(), h, rows);
        buffers.give(h);
        int ffn = p.fc1().out();
        ResolvedWeights.Norm mid = l.ffnMidLn();
        rowChunks(rows, (long) ffn * 32, (r0, n) -> {
            k.gelu(f, r0 * ffn, n * ffn);
            k.layerNorm(f, r0 * ffn, n, ffn, mid.w(), mid.b(), eps, f, r0 * ffn);
        });
        float[] y = linear(p.fc2(), f, rows);
        buffers.give(f);
        rowChunks(rows, d, (r0, n) -> addResidual(x, y, r0 * d, (r0 + n) * d));
        return y;
    }

    /**
     * The output half of an attention block: {@code x + post_ln(out_proj(c_attn * attn))}, into a new
     * array ({@code x} is left as it is; {@code attn} is scaled in place).
     */
    float[] attentionOutput(JvParams.Dense o, float[] cAttn, ResolvedWeights.Norm postLn, float[] attn, float[] x,
            int rows) {
        rowChunks(rows, d, (r0, n) -> scaleHeads(attn, r0, n, cAttn));
        float[] y = linear(o, attn, rows);
        rowChunks(rows, (long) d * 8, (r0, n) -> {
            k.layerNorm(y, r0 * d, n, d, postLn.w(), postLn.b(), eps, y, r0 * d);
            addResidual(x, y, r0 * d, (r0 + n) * d);
        });
        return y;
    }

    /**
     * Self-attention within segments over fused {@code [q | k | v]} rows ({@code 3d} wide, queries
     * scaled): segment {@code s} is rows {@code [off[s], off[s]+len[s])}, attending only to itself,
     * with the folded bias {@code bias} ({@code [H, biasRows, biasCols]}, the segment's positions
     * being 0..len-1). Each segment's and head's keys are prepared once; then segments, heads and,
     * when they are fewer than the threads can share, blocks of queries run in parallel (a query's
     * result does not depend on the block it is in).
     *
     * @param from per segment, its first query position (the rows before it are left as they are in
     *             the array returned), or null for all of them
     */
    float[] segmentSelfAttention(float[] qkv, int[] off, int[] len, int[] from, float[] bias, int biasRows,
            int biasCols, boolean causal) {
        int rows = 0;
        int maxLen = 0;
        for (int l : len) {
            rows += l;
            maxLen = Math.max(maxLen, l);
        }
        float[] out = buffers.take(rows * d);
        int stride = 3 * d;
        int units = off.length * heads;
        JvKeys[] keys = new JvKeys[units];
        forEach(units, (long) maxLen * headDim * 4, t -> keys[t] = k.keys(qkv, off[t / heads] * stride + d
                + (t % heads) * headDim, stride, len[t / heads], headDim));
        int threads = parallel.threads();
        int perUnit = Math.max(1, (TASKS_PER_THREAD * threads + units - 1) / units);
        int chunk = Math.max(1, (maxLen + perUnit - 1) / perUnit);
        int chunks = Math.max(1, (maxLen + chunk - 1) / chunk);
        forEach(units * chunks, (long) chunk * maxLen * headDim * 4, t -> {
            int unit = t / chunks;
            int s = unit / heads;
            int h = unit % heads;
            int q0 = Math.max((t % chunks) * chunk, from == null ? 0 : from[s]);
            int nq = Math.min((t % chunks + 1) * chunk, len[s]) - q0;
            if (nq <= 0) {
                return;
            }
            int base = off[s] * stride + h * headDim;
            k.attention(qkv, base + q0 * stride, stride, keys[unit], qkv, base + 2 * d, stride, nq, bias,
                    h * biasRows * biasCols + q0 * biasCols, biasCols, causal, q0, out, (off[s] + q0) * d + h * headDim,
                    d);
        });
        return out;
    }
}
