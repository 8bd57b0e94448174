package dev.mue.backend.tf;

import static dev.mue.backend.tf.TfWeights.C_ATTN;
import static dev.mue.backend.tf.TfWeights.C_CATTN;
import static dev.mue.backend.tf.TfWeights.CO_B;
import static dev.mue.backend.tf.TfWeights.CO_W;
import static dev.mue.backend.tf.TfWeights.CQ_B;
import static dev.mue.backend.tf.TfWeights.CQ_W;
import static dev.mue.backend.tf.TfWeights.FC1_B;
import static dev.mue.backend.tf.TfWeights.FC1_W;
import static dev.mue.backend.tf.TfWeights.FC2_B;
import static dev.mue.backend.tf.TfWeights.FC2_W;
import static dev.mue.backend.tf.TfWeights.FFN_LN_B;
import static dev.mue.backend.tf.TfWeights.FFN_LN_W;
import static dev.mue.backend.tf.TfWeights.K_B;
import static dev.mue.backend.tf.TfWeights.K_W;
import static dev.mue.backend.tf.TfWeights.LN1_B;
import static dev.mue.backend.tf.TfWeights.LN1_W;
import static dev.mue.backend.tf.TfWeights.LN2_B;
import static dev.mue.backend.tf.TfWeights.LN2_W;
import static dev.mue.backend.tf.TfWeights.MID_B;
import static dev.mue.backend.tf.TfWeights.MID_W;
import static dev.mue.backend.tf.TfWeights.O_B;
import static dev.mue.backend.tf.TfWeights.O_W;
import static dev.mue.backend.tf.TfWeights.POST1_B;
import static dev.mue.backend.tf.TfWeights.POST1_W;
import static dev.mue.backend.tf.TfWeights.POST2_B;
import static dev.mue.backend.tf.TfWeights.POST2_W;
import static dev.mue.backend.tf.TfWeights.Q_B;
import static dev.mue.backend.tf.TfWeights.Q_W;
import static dev.mue.backend.tf.TfWeights.V_B;
import static dev.mue.backend.tf.TfWeights.V_W;

import dev.mue.api.model.ModelConfig;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.op.math.Mean;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;

/**
 * The model's arithmetic as TensorFlow ops, written once against {@link Ops} so that the compiled
 * graphs (inside their exit-branch functions) and the eager mode build exactly the same ops.
 *
 * <p>Numerics: everything runs in float32 (matrix products, softmax, LayerNorm, GELU) except the
 * gate's cosine, which is float64 as in the Java kernels. LayerNorm and GELU once ran in float64
 * and rounded once; at OFA-base size those casts and double-precision passes over every
 * {@code [tokens, 3072]} activation cost about a tenth of an encoder pass, for differences far
 * inside the TCK's tolerances.
 */
final class TfLayers {
    final int d;
    final int heads;
    final int headDim;
    final float queryScale;
    /** LayerNorm epsilon as the Java kernels use it: the config's value rounded to float. */
    final double eps;

    TfLayers(ModelConfig c) {
        this.d = c.dModel();
        this.heads = c.heads();
        this.headDim = c.headDim();
        this.queryScale = (float) c.queryScale();
        this.eps = (float) c.layerNormEps();
    }

    /** Weight slot {@code slot} of layer {@code layer} (1-based) in a flat list of {@code slots} per layer. */
    @SuppressWarnings("unchecked")
    static Operand<TFloat32> w(List<? extends Operand<?>> weights, int slots, int layer, int slot) {
        return (Operand<TFloat32>) weights.get((layer - 1) * slots + slot);
    }

    private static Operand<TFloat64> f64(Ops tf, Operand<TFloat32> x) {
        return tf.dtypes.cast(x, TFloat64.class);
    }

    /**
     * LayerNorm over the last axis in float32: the mean, then the biased variance of the centred
     * values (two reductions, as the Java kernels do), then {@code (x - mean) * rsqrt(var + eps) *
     * g + b}.
     */
    Operand<TFloat32> layerNorm(Ops tf, Operand<TFloat32> x, Operand<TFloat32> g, Operand<TFloat32> b) {
        Operand<TInt32> last = tf.constant(-1);
        Operand<TFloat32> mean = tf.math.mean(x, last, Mean.keepDims(true));
        Operand<TFloat32> dv = tf.math.sub(x, mean);
        Operand<TFloat32> var = tf.math.mean(tf.math.square(dv), last, Mean.keepDims(true));
        Operand<TFloat32> inv = tf.math.rsqrt(tf.math.add(var, tf.constant((float) eps)));
        return tf.math.add(tf.math.mul(tf.math.mul(dv, inv), g), b);
    }

    /** {@code x @ w + b}, {@code w} already {@code [in, out]}. */
    static Operand<TFloat32> linear(Ops tf, Operand<TFloat32> x, Operand<TFloat32> w, Operand<TFloat32> b) {
        return tf.math.add(tf.linalg.matMul(x, w), b);
    }

    /** Exact GELU in float32, {@code 0.5 x (1 + erf(x / sqrt 2))}. */
    static Operand<TFloat32> gelu(Ops tf, Operand<TFloat32> x) {
        Operand<TFloat32> e = tf.math.erf(tf.math.mul(x, tf.constant((float) Math.sqrt(0.5))));
        return tf.math.mul(tf.math.mul(tf.constant(0.5f), x), tf.math.add(tf.constant(1f), e));
    }

    private Operand<TFloat32> splitHeads(Ops tf, Operand<TFloat32> x) {
        return tf.linalg.transpose(tf.reshape(x, tf.constant(new int[] {-1, heads, headDim})),
                tf.constant(new int[] {1, 0, 2}));
    }

    /**
     * Multi-head attention with an additive bias. Shared keys: queries {@code [nq, d]} (already
     * scaled) over keys and values {@code [nk, d]}, bias broadcastable to {@code [H, nq, nk]}.
     * Per-row keys (a decoding step's rows, one query each): queries {@code [n, d]} over keys and
     * values {@code [n, nk, d]} (or {@code [1, nk, d]}, shared by every row), bias broadcastable to
     * {@code [n, H, 1, nk]}; row {@code r}'s query sees only row {@code r}'s keys.
     */
    Operand<TFloat32> attention(Ops tf, Operand<TFloat32> q, Operand<TFloat32> k, Operand<TFloat32> v,
            Operand<TFloat32> bias) {
        if (k.shape().numDimensions() == 3) {
            Operand<TFloat32> qh = tf.reshape(q, tf.constant(new int[] {-1, heads, 1, headDim}));
            Operand<TFloat32> s = tf.train.batchMatMul(qh, rowHeads(tf, k), TFloat32.class, BatchMatMul.adjY(true));
            Operand<TFloat32> p = tf.nn.softmax(tf.math.add(s, bias));
            Operand<TFloat32> o = tf.train.batchMatMul(p, rowHeads(tf, v), TFloat32.class);
            return tf.reshape(o, tf.constant(new int[] {-1, d}));
        }
        Operand<TFloat32> s = tf.train.batchMatMul(splitHeads(tf, q), splitHeads(tf, k), TFloat32.class,
                BatchMatMul.adjY(true));
        Operand<TFloat32> p = tf.nn.softmax(tf.math.add(s, bias));
        Operand<TFloat32> o = tf.train.batchMatMul(p, splitHeads(tf, v), TFloat32.class);
        return tf.reshape(tf.linalg.transpose(o, tf.constant(new int[] {1, 0, 2})), tf.constant(new int[] {-1, d}));
    }

    /** Per-row keys or values {@code [b, nk, d]} split into heads: {@code [b, H, nk, headDim]}. */
    private Operand<TFloat32> rowHeads(Ops tf, Operand<TFloat32> x) {
        Operand<TInt32> lead = tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {2}));
        Operand<TFloat32> split = tf.reshape(x, tf.concat(List.of(lead, tf.constant(new int[] {heads, headDim})),
                tf.constant(0)));
        return tf.linalg.transpose(split, tf.constant(new int[] {0, 2, 1, 3}));
    }

    /** The output half of an attention block: {@code x + post_ln(out_proj(c_attn * attn))}. */
    private Operand<TFloat32> attentionOutput(Ops tf, Operand<TFloat32> x, Operand<TFloat32> attn,
            Operand<TFloat32> cAttn, Operand<TFloat32> ow, Operand<TFloat32> ob, Operand<TFloat32> lnW,
            Operand<TFloat32> lnB) {
        Operand<TFloat32> o = linear(tf, tf.math.mul(attn, cAttn), ow, ob);
        return tf.math.add(x, layerNorm(tf, o, lnW, lnB));
    }

    /** The FFN block: {@code x + fc2(ffn_ln(gelu(fc1(final_ln(x)))))}. */
    private Operand<TFloat32> ffn(Ops tf, Operand<TFloat32> x, List<? extends Operand<?>> w, int slots, int l) {
        Operand<TFloat32> h = layerNorm(tf, x, w(w, slots, l, FFN_LN_W), w(w, slots, l, FFN_LN_B));
        Operand<TFloat32> f = gelu(tf, linear(tf, h, w(w, slots, l, FC1_W), w(w, slots, l, FC1_B)));
        f = layerNorm(tf, f, w(w, slots, l, MID_W), w(w, slots, l, MID_B));
        return tf.math.add(x, linear(tf, f, w(w, slots, l, FC2_W), w(w, slots, l, FC2_B)));
    }

    private Operand<TFloat32> scaledQuery(Ops tf, Operand<TFloat32> h, Operand<TFloat32> qw, Operand<TFloat32> qb) {
        return tf.math.mul(linear(tf, h, qw, qb), tf.constant(queryScale));
    }

    /** Encoder layer {@code l} (1-based) over one stream's tokens {@code [T, d]} with bias {@code [H, T, T]}. */
    Operand<TFloat32> encoderLayer(Ops tf, int l, Operand<TFloat32> x, Operand<TFloat32> bias,
            List<? extends Operand<?>> w) {
        int s = TfWeights.ENCODER_SLOTS;
        Operand<TFloat32> h = layerNorm(tf, x, w(w, s, l, LN1_W), w(w, s, l, LN1_B));
        Operand<TFloat32> q = scaledQuery(tf, h, w(w, s, l, Q_W), w(w, s, l, Q_B));
        Operand<TFloat32> k = linear(tf, h, w(w, s, l, K_W), w(w, s, l, K_B));
        Operand<TFloat32> v = linear(tf, h, w(w, s, l, V_W), w(w, s, l, V_B));
        Operand<TFloat32> a = attention(tf, q, k, v, bias);
        Operand<TFloat32> out = attentionOutput(tf, x, a, w(w, s, l, C_ATTN), w(w, s, l, O_W), w(w, s, l, O_B),
                w(w, s, l, POST1_W), w(w, s, l, POST1_B));
        return ffn(tf, out, w, s, l);
    }

    /** The self-attention keys and values of decoder layer {@code l} for hidden states {@code x}. */
    Operand<TFloat32>[] decoderKv(Ops tf, int l, Operand<TFloat32> x, List<? extends Operand<?>> w) {
        int s = TfWeights.DECODER_SLOTS;
        Operand<TFloat32> h = layerNorm(tf, x, w(w, s, l, LN1_W), w(w, s, l, LN1_B));
        @SuppressWarnings("unchecked")
        Operand<TFloat32>[] kv = (Operand<TFloat32>[]) new Operand<?>[] {linear(tf, h, w(w, s, l, K_W), w(w, s, l, K_B)),
            linear(tf, h, w(w, s, l, V_W), w(w, s, l, V_B))};
        return kv;
    }

    /** Decoder self-attention: the query's scores and the keys it may see come from {@code keys}, {@code values}. */
    interface KeyValues {
        /** Keys, values and the additive bias for the queries, given this layer's new keys and values. */
        Operand<TFloat32>[] attend(Operand<TFloat32> k, Operand<TFloat32> v);
    }

    /**
     * Decoder layer {@code l} (1-based) over query rows {@code x} ({@code [n, d]}). {@code self}
     * supplies the keys, values and bias the queries attend to once this layer's own keys and values
     * are known; cross-attention uses {@code ck}, {@code cv} and {@code crossBias}.
     */
    Operand<TFloat32> decoderLayer(Ops tf, int l, Operand<TFloat32> x, KeyValues self, Operand<TFloat32> ck,
            Operand<TFloat32> cv, Operand<TFloat32> crossBias, List<? extends Operand<?>> w) {
        int s = TfWeights.DECODER_SLOTS;
        Operand<TFloat32> h = layerNorm(tf, x, w(w, s, l, LN1_W), w(w, s, l, LN1_B));
        Operand<TFloat32> q = scaledQuery(tf, h, w(w, s, l, Q_W), w(w, s, l, Q_B));
        Operand<TFloat32> k = linear(tf, h, w(w, s, l, K_W), w(w, s, l, K_B));
        Operand<TFloat32> v = linear(tf, h, w(w, s, l, V_W), w(w, s, l, V_B));
        Operand<TFloat32>[] kvb = self.attend(k, v);
        Operand<TFloat32> a = attention(tf, q, kvb[0], kvb[1], kvb[2]);
        Operand<TFloat32> out = attentionOutput(tf, x, a, w(w, s, l, C_ATTN), w(w, s, l, O_W), w(w, s, l, O_B),
                w(w, s, l, POST1_W), w(w, s, l, POST1_B));
        Operand<TFloat32> h2 = layerNorm(tf, out, w(w, s, l, LN2_W), w(w, s, l, LN2_B));
        Operand<TFloat32> q2 = scaledQuery(tf, h2, w(w, s, l, CQ_W), w(w, s, l, CQ_B));
        Operand<TFloat32> a2 = attention(tf, q2, ck, cv, crossBias);
        out = attentionOutput(tf, out, a2, w(w, s, l, C_CATTN), w(w, s, l, CO_W), w(w, s, l, CO_B),
                w(w, s, l, POST2_W), w(w, s, l, POST2_B));
        return ffn(tf, out, w, s, l);
    }

    /**
     * The gate's similarity: cosine between the flattened {@code out} and {@code in} in float64;
     * 1 when both are zero, 0 when one is (as the Java kernels define it). The one-row case of
     * {@link #cosineRows}.
     */
    static Operand<TFloat64> cosine(Ops tf, Operand<TFloat32> out, Operand<TFloat32> in) {
        Operand<TInt32> flat = tf.constant(new int[] {1, -1});
        return tf.reshape(cosineRows(tf, tf.reshape(out, flat), tf.reshape(in, flat)), tf.constant(new int[0]));
    }

    /**
     * The gate's similarity of each row of {@code out} and {@code in} ({@code [n, d]}): {@code [n]},
     * each row's cosine as {@link #cosine} defines it.
     */
    static Operand<TFloat64> cosineRows(Ops tf, Operand<TFloat32> out, Operand<TFloat32> in) {
        Operand<TFloat64> a = f64(tf, out);
        Operand<TFloat64> b = f64(tf, in);
        Operand<TInt32> row = tf.constant(1);
        Operand<TFloat64> ab = tf.sum(tf.math.mul(a, b), row);
        Operand<TFloat64> aa = tf.sum(tf.math.mul(a, a), row);
        Operand<TFloat64> bb = tf.sum(tf.math.mul(b, b), row);
        Operand<TFloat64> zero = tf.zerosLike(ab);
        Operand<TBool> za = tf.math.equal(aa, zero);
        Operand<TBool> zb = tf.math.equal(bb, zero);
        Operand<TFloat64> cos = tf.math.div(ab, tf.math.sqrt(tf.math.mul(aa, bb)));
        return tf.select(tf.math.logicalAnd(za, zb), tf.onesLike(ab),
                tf.select(tf.math.logicalOr(za, zb), zero, cos));
    }

    /** The gate's decision on similarities {@code sim}: exit where strictly above the threshold (design §4). */
    static Operand<TBool> exits(Ops tf, Operand<TFloat64> sim, Operand<TFloat64> threshold) {
        return tf.math.greater(sim, threshold);
    }

    // ------------------------------------------------------------------ embeddings and heads

    /** Text tokens {@code [T]}: token embedding plus type embedding 0, then {@code layernorm_embedding}. */
    Operand<TFloat32> embedText(Ops tf, TfModel m, Operand<TInt32> ids) {
        Operand<TFloat32> x = tf.math.add(tf.gather(m.embedTokens(), ids, tf.constant(0)), m.typeText());
        return layerNorm(tf, x, m.textEmbedLnW(), m.textEmbedLnB());
    }

    /** Decoder tokens {@code [n]}: token embedding, then {@code decoder.layernorm_embedding}. */
    Operand<TFloat32> embedDecoder(Ops tf, TfModel m, Operand<TInt32> ids) {
        return layerNorm(tf, tf.gather(m.embedTokens(), ids, tf.constant(0)), m.decoderEmbedLnW(), m.decoderEmbedLnB());
    }

    /**
     * Final decoder LayerNorm and the tied projection: {@code [n, d] -> [n, V]}, computed as
     * {@code (embed_tokens h^T)^T}: with the table as the left operand TensorFlow streams it once,
     * while {@code h embed_tokens^T} made it pack the whole {@code [V, d]} table on every call (124 of
     * the 150 ms of a 5-row ofa-base decoding step).
     */
    Operand<TFloat32> lmHead(Ops tf, TfModel m, Operand<TFloat32> x) {
        Operand<TFloat32> h = layerNorm(tf, x, m.decoderOutLnW(), m.decoderOutLnB());
        return tf.linalg.transpose(tf.linalg.matMul(m.embedTokens(), h, MatMul.transposeB(true)),
                tf.constant(new int[] {1, 0}));
    }

    /** The encoder output: {@code encoder.layer_norm} over the stream outputs concatenated. */
    Operand<TFloat32> encoderOutput(Ops tf, TfModel m, List<Operand<TFloat32>> parts) {
        Operand<TFloat32> x = parts.size() == 1 ? parts.get(0) : tf.concat(parts, tf.constant(0));
        return layerNorm(tf, x, m.encoderOutLnW(), m.encoderOutLnB());
    }

    /**
     * The image path for one CHW image {@code [3, S, S]}: truncated ResNet (NHWC inside),
     * {@code image_proj}, type embedding 1, {@code patch_layernorm_embedding}: {@code [I, d]}.
     */
    Operand<TFloat32> embedImage(Ops tf, TfModel m, Operand<TFloat32> chw, int size) {
        Operand<TFloat32> x = tf.linalg.transpose(tf.reshape(chw, tf.constant(new int[] {1, 3, size, size})),
                tf.constant(new int[] {0, 2, 3, 1}));
        x = convBn(tf, x, m.stem(), true);
        x = tf.pad(x, tf.constant(new int[][] {{0, 0}, {1, 1}, {1, 1}, {0, 0}}), tf.constant(Float.NEGATIVE_INFINITY));
        x = tf.nn.maxPool(x, tf.constant(new int[] {1, 3, 3, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
        for (TfModel.Block b : m.blocks()) {
            Operand<TFloat32> y = convBn(tf, x, b.c1(), true);
            y = convBn(tf, y, b.c2(), true);
            y = convBn(tf, y, b.c3(), false);
            Operand<TFloat32> shortcut = b.down() == null ? x : convBn(tf, x, b.down(), false);
            x = tf.nn.relu(tf.math.add(y, shortcut));
        }
        Operand<TFloat32> seq = tf.reshape(x, tf.constant(new int[] {-1, m.host.config.resnet().outputChannels()}));
        Operand<TFloat32> e = tf.math.add(linear(tf, seq, m.imageProjW(), m.imageProjB()), m.typeImage());
        return layerNorm(tf, e, m.imageEmbedLnW(), m.imageEmbedLnB());
    }

    private static Operand<TFloat32> convBn(Ops tf, Operand<TFloat32> x, TfModel.Conv c, boolean relu) {
        Operand<TFloat32> in = x;
        if (c.pad() > 0) {
            int p = c.pad();
            in = tf.pad(x, tf.constant(new int[][] {{0, 0}, {p, p}, {p, p}, {0, 0}}), tf.constant(0f));
        }
        Operand<TFloat32> y = tf.nn.conv2d(in, c.filter(), List.of(1L, (long) c.stride(), (long) c.stride(), 1L),
                "VALID");
        y = tf.nn.biasAdd(y, c.shift());
        return relu ? tf.nn.relu(y) : y;
    }
}
