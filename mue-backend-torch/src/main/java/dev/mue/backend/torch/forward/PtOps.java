package dev.mue.backend.torch.forward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.pooling.Pool;
import dev.mue.api.model.ModelConfig;

/**
 * The forward code of the PyTorch backend as pure functions over {@link NDArray}: no host round
 * trip, and no in-place operation on a tensor that autograd keeps for a backward pass (the one
 * in-place step, adding the bias to fresh attention scores, is safe), so the training code can run
 * the same layers under a {@code GradientCollector}.
 *
 * <p>Every result is derived from an activation (never first from a parameter), so it lands in the
 * activation's {@code NDManager}: the request's scope, never the executable's weights.
 */
public final class PtOps {
    public final int d;
    public final int heads;
    public final int headDim;
    public final float scale;
    public final float eps;

    public PtOps(ModelConfig c) {
        this.d = c.dModel();
        this.heads = c.heads();
        this.headDim = c.headDim();
        this.scale = (float) c.queryScale();
        this.eps = (float) c.layerNormEps();
    }

    /** {@code x W^T + b} over the last dimension. */
    public static NDArray linear(NDArray x, PtParams.Lin l) {
        return Linear.linear(x, l.w(), l.b()).singletonOrThrow();
    }

    /** {@code x W^T}, no bias (the tied output projection). */
    public static NDArray linear(NDArray x, NDArray w) {
        return Linear.linear(x, w).singletonOrThrow();
    }

    public NDArray layerNorm(NDArray x, PtParams.Ln ln) {
        return LayerNorm.layerNorm(x, ln.dim(), ln.w(), ln.b(), eps).singletonOrThrow();
    }

    /** Exact GELU, {@code 0.5 x (1 + erf(x / sqrt 2))}: libtorch's {@code gelu} with no approximation. */
    public static NDArray gelu(NDArray x) {
        return Activation.gelu(x);
    }

    /**
     * Multi-head attention with the per-head output scale applied.
     *
     * @param q    queries {@code [B, Lq, d]}, already scaled
     * @param k    keys {@code [B or 1, Lk, d]}
     * @param v    values, like {@code k}
     * @param bias position bias broadcastable to {@code [B, H, Lq, Lk]}, or null
     * @param mask additive mask (0 or -inf) broadcastable to {@code [B, H, Lq, Lk]}, or null
     * @return {@code [B, Lq, d]}
     */
    public NDArray attention(NDArray q, NDArray k, NDArray v, NDArray bias, NDArray mask, NDArray cAttn) {
        Shape qs = q.getShape();
        Shape ks = k.getShape();
        long b = qs.get(0);
        long lq = qs.get(1);
        long bk = ks.get(0);
        long lk = ks.get(1);
        NDArray qh = q.reshape(b, lq, heads, headDim).transpose(0, 2, 1, 3);
        NDArray kh = k.reshape(bk, lk, heads, headDim).transpose(0, 2, 3, 1);
        NDArray vh = v.reshape(bk, lk, heads, headDim).transpose(0, 2, 1, 3);
        NDArray s = qh.matMul(kh);
        // The scores are a fresh [B, H, Lq, Lk] tensor (41 MB per ofa-base encoder layer) that
        // nothing else holds and whose gradient does not need its value (matmul's backward reads
        // its inputs): adding the bias and mask in place saves two such allocations, their page
        // faults and frees, and is exact under autograd as well.
        if (bias != null) {
            s.addi(bias);
        }
        if (mask != null) {
            s.addi(mask);
        }
        NDArray o = s.softmax(-1).matMul(vh).mul(cAttn);
        return o.transpose(0, 2, 1, 3).reshape(b, lq, d);
    }

    /** {@code x + post_ln(out_proj(attn))}. */
    public NDArray attentionOutput(PtParams.Attn a, PtParams.Ln postLn, NDArray attn, NDArray x) {
        return x.add(layerNorm(linear(attn, a.o()), postLn));
    }

    /** The FFN block: {@code x + fc2(ffn_ln(gelu(fc1(final_ln(x)))))}. */
    public NDArray ffn(PtParams.Layer l, NDArray x) {
        NDArray h = layerNorm(x, l.ffnInLn());
        NDArray f = layerNorm(gelu(linear(h, l.fc1())), l.ffnMidLn());
        return x.add(linear(f, l.fc2()));
    }

    /**
     * {@code q * scale}, the scalar as a tensor in {@code q}'s manager. DJL's {@code mul(Number)}
     * closes its temporary scalar tensor as soon as the op returns, but autograd keeps that tensor
     * for the backward pass; once the JVM collects the scalar's direct buffer, the backward pass
     * reads freed memory (garbage, often infinite, gradients). A tensor owned by the activation's
     * manager lives until that scope closes, after the backward pass.
     */
    private NDArray scaled(NDArray q) {
        return q.mul(q.getManager().create(scale));
    }

    /** Queries, keys and values of a self-attention block from {@code x}: {@code [q * scale, k, v]}. */
    public NDArray[] selfQkv(PtParams.Layer l, NDArray x) {
        NDArray h = layerNorm(x, l.selfLn());
        return new NDArray[] {scaled(linear(h, l.self().q())), linear(h, l.self().k()), linear(h, l.self().v())};
    }

    /** Key and value a layer computes for hidden states {@code x} (what PROPAGATE fills skipped layers with). */
    public NDArray[] selfKv(PtParams.Layer l, NDArray x) {
        NDArray h = layerNorm(x, l.selfLn());
        return new NDArray[] {linear(h, l.self().k()), linear(h, l.self().v())};
    }

    /**
     * One pre-LN encoder layer over {@code x} {@code [B, L, d]}.
     *
     * @param bias {@code [1, H, L, L]} folded position bias
     * @param mask {@code [B, 1, 1, L]} key padding mask, or null
     */
    public NDArray encoderLayer(PtParams.Layer l, NDArray x, NDArray bias, NDArray mask) {
        NDArray[] qkv = selfQkv(l, x);
        NDArray a = attention(qkv[0], qkv[1], qkv[2], bias, mask, l.self().cAttn());
        return ffn(l, attentionOutput(l.self(), l.selfPostLn(), a, x));
    }

    /**
     * The cross-attention and FFN half of a decoder layer.
     *
     * @param crossK encoder keys of this layer {@code [B or 1, N, d]}
     * @param bias   {@code [1, H, Lq, N]} cross position bias
     * @param mask   {@code [B or 1, 1, 1, N]} encoder padding mask, or null
     */
    public NDArray crossAndFfn(PtParams.Layer l, NDArray x, NDArray crossK, NDArray crossV, NDArray bias, NDArray mask) {
        NDArray h = layerNorm(x, l.crossLn());
        NDArray q = scaled(linear(h, l.cross().q()));
        NDArray a = attention(q, crossK, crossV, bias, mask, l.cross().cAttn());
        return ffn(l, attentionOutput(l.cross(), l.crossPostLn(), a, x));
    }

    /**
     * Convolution with its folded BatchNorm, optionally followed by ReLU, over {@code [B, C, H, W]}.
     *
     * <p>libtorch sends a small single-image convolution, and a 1x1 one on one thread, to its
     * NNPACK path, which on CPUs whose caches NNPACK cannot identify (common in VMs) logs "Could
     * not initialize NNPACK" on every call before falling back. Two changes that leave the result
     * unchanged keep every convolution on the oneDNN path instead: a 1x1 kernel gets dilation 2 (a
     * no-op for a 1x1 kernel), and a single image small enough that libtorch would not pick oneDNN
     * for it (at most {@value #ONEDNN_MIN_SINGLE} input elements) is convolved as a batch of two,
     * the copy's output dropped. A larger single image goes to oneDNN as it is: duplicating it
     * there would double the backbone's cost at the sizes users serve.
     */
    public static NDArray convBn(NDArray x, PtParams.ConvBn c, boolean relu) {
        Shape ws = c.w().getShape();
        boolean pointwise = ws.get(2) == 1 && ws.get(3) == 1;
        boolean single = x.getShape().get(0) == 1 && x.size() <= ONEDNN_MIN_SINGLE;
        NDArray in = single ? x.concat(x, 0) : x;
        int dilation = pointwise ? 2 : 1;
        NDArray y = Conv2d.conv2d(in, c.w(), c.bias(), new Shape(c.stride(), c.stride()), new Shape(c.pad(), c.pad()),
                new Shape(dilation, dilation)).singletonOrThrow();
        if (single) {
            y = y.get("0:1");
        }
        return relu ? Activation.relu(y) : y;
    }

    /**
     * libtorch (2.x, {@code ConvParams::use_mkldnn}) sends a float convolution of one image with a
     * kernel of at most 3x3 to oneDNN only when the input has more elements than this; below, it
     * asks NNPACK first.
     */
    static final long ONEDNN_MIN_SINGLE = 20480;

    /** The truncated ResNet: {@code [B, 3, S, S]} to {@code [B, C, g, g]}. */
    public static NDArray resnet(PtParams p, NDArray image) {
        NDArray x = convBn(image, p.stem, true);
        x = Pool.maxPool2d(x, new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), false);
        for (PtParams.Bottleneck[] stage : p.stages) {
            for (PtParams.Bottleneck b : stage) {
                NDArray y = convBn(x, b.c1(), true);
                y = convBn(y, b.c2(), true);
                y = convBn(y, b.c3(), false);
                NDArray shortcut = b.down() == null ? x : convBn(x, b.down(), false);
                x = Activation.relu(y.add(shortcut));
            }
        }
        return x;
    }

    /**
     * An additive key mask {@code [B, 1, 1, width]}: 0 for the first {@code lens[b]} positions of
     * row {@code b}, -inf after; null when no row is padded. Made in {@code m}.
     */
    public static NDArray paddingMask(NDManager m, int[] lens, int width) {
        boolean padded = false;
        for (int l : lens) {
            padded |= l < width;
        }
        if (!padded) {
            return null;
        }
        float[] mask = new float[lens.length * width];
        for (int b = 0; b < lens.length; b++) {
            java.util.Arrays.fill(mask, b * width + lens[b], (b + 1) * width, Float.NEGATIVE_INFINITY);
        }
        return m.create(mask, new Shape(lens.length, 1, 1, width));
    }

    /**
     * The causal and key-padding mask {@code [B, 1, width, width]} of rows of {@code lens[b]} real
     * positions: 0 where query q may see key k (k <= q, k real), -inf elsewhere. Made in {@code m}.
     */
    public static NDArray causalMask(NDManager m, int[] lens, int width) {
        float[] mask = new float[lens.length * width * width];
        for (int b = 0; b < lens.length; b++) {
            int base = b * width * width;
            for (int q = 0; q < width; q++) {
                for (int k = 0; k < width; k++) {
                    if (k > q || k >= lens[b]) {
                        mask[base + q * width + k] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
        return m.create(mask, new Shape(lens.length, 1, width, width));
    }
}
