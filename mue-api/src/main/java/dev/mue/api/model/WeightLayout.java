package dev.mue.api.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors a model of a given {@link ModelConfig} must have, by OFA fairseq key name and shape.
 *
 * <p>The token embedding {@code encoder.embed_tokens.weight} is stored once: the decoder's input
 * embedding and the output projection are tied to it (OFA's {@code share_all_embeddings}).
 * Buffers that OFA recomputes (relative-position bucket tables, {@code num_batches_tracked}) are
 * not stored.
 *
 * <p>This is the one place that names the keys: {@link #expected} (what the planner validates and
 * {@link RandomWeights} draws) and {@link #resolve} (the typed weights every backend reads) are two
 * readings of one walk over the layout.
 */
public final class WeightLayout {
    /** What {@link #walk} reads a tensor from: the loaded weights, or a recorder of names and shapes. */
    private interface Source {
        /** The data of {@code key}, whose shape must be {@code shape}. */
        float[] take(String key, int... shape);
    }

    /** What the recording walk returns for every tensor: no data. */
    private static final float[] NO_DATA = new float[0];

    private WeightLayout() {
    }

    /** Every expected tensor name with its shape, in a stable order. */
    public static Map<String, int[]> expected(ModelConfig c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        walk(c, (key, shape) -> {
            m.put(key, shape);
            return NO_DATA;
        });
        return m;
    }

    /** Stops the counting walk of {@link #parameterCount} once it passes its cap. */
    private static final class CountExceeded extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CountExceeded() {
            super(null, null, false, false);
        }
    }

    /**
     * How many parameters a model of config {@code c} has, without building the list of tensors:
     * the exact count when it is at most {@code stopAbove}, otherwise some count above it (the walk
     * stops there, so a config with millions of layers costs no more than its cap).
     */
    public static long parameterCount(ModelConfig c, long stopAbove) {
        long[] n = {0};
        try {
            walk(c, (key, shape) -> {
                long e = 1;
                for (int x : shape) {
                    e *= x; // ModelConfig keeps every table inside one Java array, so this cannot overflow
                }
                n[0] += e;
                if (n[0] > stopAbove) {
                    throw new CountExceeded();
                }
                return NO_DATA;
            });
        } catch (CountExceeded e) {
            return n[0];
        }
        return n[0];
    }

    /**
     * The weights as typed per-layer records, BatchNorm folded. The planner calls this once per
     * plan, after validating the weights against {@link #expected}.
     *
     * @throws dev.mue.api.WeightMismatchException when a tensor is missing
     */
    public static ResolvedWeights resolve(ModelConfig c, Weights w) {
        return walk(c, (key, shape) -> w.data(key));
    }

    /**
     * The one place that names OFA's fairseq keys: reads every tensor of a model of config
     * {@code c} from {@code s}, in the stable order of {@link #expected} (seeded random weights
     * depend on it), and assembles the typed records.
     */
    private static ResolvedWeights walk(ModelConfig c, Source s) {
        int d = c.dModel();
        int h = c.heads();
        float[] embedTokens = s.take("encoder.embed_tokens.weight", c.vocabSize(), d);
        float[] type = s.take("encoder.type_embedding.weight", 2, d);
        ResolvedWeights.Norm textEmbedLn = norm(s, "encoder.layernorm_embedding", d);
        ResolvedWeights.Norm imageEmbedLn = norm(s, "encoder.patch_layernorm_embedding", d);
        ResolvedWeights.Linear imageProj = linear(s, "encoder.image_proj", c.resnet().outputChannels(), d);
        float[] textPositions = s.take("encoder.embed_positions.weight", c.maxPositions() + 2, d);
        float[] imagePositions = s.take("encoder.embed_image_positions.weight",
                c.imageBucketSize() * c.imageBucketSize() + 1, d);
        ResolvedWeights.Norm textPosLn = norm(s, "encoder.pos_ln", d);
        ResolvedWeights.Norm imagePosLn = norm(s, "encoder.image_pos_ln", d);
        ResolvedWeights.Linear encoderPosQ = linear(s, "encoder.pos_q_linear", d, d);
        ResolvedWeights.Linear encoderPosK = linear(s, "encoder.pos_k_linear", d, d);
        ResolvedWeights.Norm encoderOutLn = norm(s, "encoder.layer_norm", d);
        ResNetConfig r = c.resnet();
        String rp = "encoder.embed_images.";
        double eps = c.layerNormEps();
        ResolvedWeights.ConvBn stem = convBn(s, rp + "conv1", rp + "bn1", 3, r.stemChannels(), 7, 2, 3, eps);
        List<List<ResolvedWeights.Bottleneck>> stages = new ArrayList<>();
        int in = r.stemChannels();
        for (int st = 0; st < 3; st++) {
            List<ResolvedWeights.Bottleneck> blocks = new ArrayList<>();
            int width = r.width(st);
            int out = r.outChannels(st);
            for (int b = 0; b < r.blocks(st); b++) {
                String q = rp + "layer" + (st + 1) + "." + b + ".";
                int stride = b == 0 ? stageStride(st) : 1;
                ResolvedWeights.ConvBn c1 = convBn(s, q + "conv1", q + "bn1", in, width, 1, 1, 0, eps);
                ResolvedWeights.ConvBn c2 = convBn(s, q + "conv2", q + "bn2", width, width, 3, stride, 1, eps);
                ResolvedWeights.ConvBn c3 = convBn(s, q + "conv3", q + "bn3", width, out, 1, 1, 0, eps);
                ResolvedWeights.ConvBn down = hasDownsample(r, st, b)
                        ? convBn(s, q + "downsample.0", q + "downsample.1", in, out, 1, stride, 0, eps) : null;
                blocks.add(new ResolvedWeights.Bottleneck(c1, c2, c3, down));
                in = out;
            }
            stages.add(blocks);
        }
        List<ResolvedWeights.Layer> encoder = new ArrayList<>();
        List<float[]> encoderTokenRel = new ArrayList<>();
        List<float[]> encoderImageRel = new ArrayList<>();
        int side = 2 * c.imageBucketSize() - 1;
        for (int i = 0; i < c.encoderLayers(); i++) {
            String p = "encoder.layers." + i + ".";
            ResolvedWeights.Attention self = attention(s, p + "self_attn", d, h);
            ResolvedWeights.Norm selfLn = norm(s, p + "self_attn_layer_norm", d);
            ResolvedWeights.Norm selfPostLn = norm(s, p + "attn_ln", d);
            Ffn f = ffn(s, p, d, c.ffnDim());
            encoder.add(new ResolvedWeights.Layer(selfLn, self, selfPostLn, null, null, null, f.inLn, f.fc1, f.midLn,
                    f.fc2));
            encoderTokenRel.add(s.take("encoder.token_rel_pos_table_list." + i + ".weight",
                    2 * c.tokenBucketSize() - 1, h));
            encoderImageRel.add(s.take("encoder.image_rel_pos_table_list." + i + ".weight", side * side + 3, h));
        }
        ResolvedWeights.Norm decoderEmbedLn = norm(s, "decoder.layernorm_embedding", d);
        float[] decoderPositions = s.take("decoder.embed_positions.weight", c.maxPositions() + 2, d);
        ResolvedWeights.Norm decoderPosLn = norm(s, "decoder.pos_ln", d);
        ResolvedWeights.Linear selfPosQ = linear(s, "decoder.self_pos_q_linear", d, d);
        ResolvedWeights.Linear selfPosK = linear(s, "decoder.self_pos_k_linear", d, d);
        ResolvedWeights.Linear crossPosQ = linear(s, "decoder.cross_pos_q_linear", d, d);
        ResolvedWeights.Linear crossPosK = linear(s, "decoder.cross_pos_k_linear", d, d);
        ResolvedWeights.Norm decoderOutLn = norm(s, "decoder.layer_norm", d);
        List<ResolvedWeights.Layer> decoder = new ArrayList<>();
        List<float[]> decoderTokenRel = new ArrayList<>();
        for (int i = 0; i < c.decoderLayers(); i++) {
            String p = "decoder.layers." + i + ".";
            ResolvedWeights.Attention self = attention(s, p + "self_attn", d, h);
            ResolvedWeights.Norm selfLn = norm(s, p + "self_attn_layer_norm", d);
            ResolvedWeights.Norm selfPostLn = norm(s, p + "self_attn_ln", d);
            ResolvedWeights.Attention cross = attention(s, p + "encoder_attn", d, h);
            ResolvedWeights.Norm crossLn = norm(s, p + "encoder_attn_layer_norm", d);
            ResolvedWeights.Norm crossPostLn = norm(s, p + "cross_attn_ln", d);
            Ffn f = ffn(s, p, d, c.ffnDim());
            decoder.add(new ResolvedWeights.Layer(selfLn, self, selfPostLn, crossLn, cross, crossPostLn, f.inLn, f.fc1,
                    f.midLn, f.fc2));
            decoderTokenRel.add(s.take("decoder.token_rel_pos_table_list." + i + ".weight",
                    2 * c.tokenBucketSize() - 1, h));
        }
        boolean hasData = type.length == 2 * d;
        float[] textType = hasData ? Arrays.copyOfRange(type, 0, d) : NO_DATA;
        float[] imageType = hasData ? Arrays.copyOfRange(type, d, 2 * d) : NO_DATA;
        ResolvedWeights.Positions positions = new ResolvedWeights.Positions(textPositions, imagePositions, textPosLn,
                imagePosLn, encoderPosQ, encoderPosK, encoderTokenRel, encoderImageRel, decoderPositions, decoderPosLn,
                selfPosQ, selfPosK, crossPosQ, crossPosK, decoderTokenRel);
        return new ResolvedWeights(embedTokens, textType, imageType, textEmbedLn, imageEmbedLn, imageProj, encoderOutLn,
                encoder, decoderEmbedLn, decoderOutLn, decoder, stem, stages, positions);
    }

    /** An FFN's four tensors groups, in reading order. */
    private record Ffn(ResolvedWeights.Linear fc1, ResolvedWeights.Linear fc2, ResolvedWeights.Norm midLn,
            ResolvedWeights.Norm inLn) {
    }

    private static Ffn ffn(Source s, String p, int d, int f) {
        ResolvedWeights.Linear fc1 = linear(s, p + "fc1", d, f);
        ResolvedWeights.Linear fc2 = linear(s, p + "fc2", f, d);
        ResolvedWeights.Norm mid = norm(s, p + "ffn_layernorm", f);
        ResolvedWeights.Norm in = norm(s, p + "final_layer_norm", d);
        return new Ffn(fc1, fc2, mid, in);
    }

    private static ResolvedWeights.Attention attention(Source s, String p, int d, int h) {
        ResolvedWeights.Linear q = linear(s, p + ".q_proj", d, d);
        ResolvedWeights.Linear k = linear(s, p + ".k_proj", d, d);
        ResolvedWeights.Linear v = linear(s, p + ".v_proj", d, d);
        ResolvedWeights.Linear o = linear(s, p + ".out_proj", d, d);
        return new ResolvedWeights.Attention(q, k, v, o, s.take(p + ".c_attn", h));
    }

    private static ResolvedWeights.Linear linear(Source s, String p, int in, int out) {
        float[] w = s.take(p + ".weight", out, in);
        return new ResolvedWeights.Linear(w, s.take(p + ".bias", out), in, out);
    }

    private static ResolvedWeights.Norm norm(Source s, String p, int d) {
        float[] w = s.take(p + ".weight", d);
        return new ResolvedWeights.Norm(w, s.take(p + ".bias", d));
    }

    /** A convolution and its BatchNorm, folded (see {@link ResolvedWeights.ConvBn}). */
    private static ResolvedWeights.ConvBn convBn(Source s, String conv, String bn, int in, int out, int k, int stride,
            int pad, double eps) {
        float[] w = s.take(conv + ".weight", out, in, k, k);
        float[] g = s.take(bn + ".weight", out);
        float[] b = s.take(bn + ".bias", out);
        float[] mean = s.take(bn + ".running_mean", out);
        float[] var = s.take(bn + ".running_var", out);
        float[] scale = NO_DATA;
        float[] shift = NO_DATA;
        if (var.length == out) {
            scale = new float[out];
            shift = new float[out];
            for (int i = 0; i < out; i++) {
                double sc = g[i] / Math.sqrt(var[i] + eps);
                scale[i] = (float) sc;
                shift[i] = (float) (b[i] - mean[i] * sc);
            }
        }
        return new ResolvedWeights.ConvBn(w, in, out, k, stride, pad, scale, shift);
    }

    /** Stride of the first block of stage {@code s} (0-based): 1 for the first stage, else 2. */
    public static int stageStride(int s) {
        return s == 0 ? 1 : 2;
    }

    /** Whether block {@code b} of stage {@code s} has a projection shortcut. */
    public static boolean hasDownsample(ResNetConfig r, int s, int b) {
        if (b != 0) {
            return false;
        }
        int in = s == 0 ? r.stemChannels() : r.outChannels(s - 1);
        return in != r.outChannels(s) || stageStride(s) != 1;
    }
}
