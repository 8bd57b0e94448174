package dev.mue.api.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors a model of a given {@link ModelConfig} must have, by OFA fairseq key name and shape.
 *
 * <p>The token embedding {@code encoder.embed_tokens.weight} is stored once: the decoder's input
 * embedding and the output projection are tied to it (OFA's {@code share_all_embeddings}).
 * Buffers that OFA recomputes (relative-position bucket tables, {@code num_batches_tracked}) are
 * not stored.
 */
public final class WeightLayout {
    private WeightLayout() {
    }

    /** Every expected tensor name with its shape, in a stable order. */
    public static Map<String, int[]> expected(ModelConfig c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        int d = c.dModel();
        int h = c.heads();
        int f = c.ffnDim();
        m.put("encoder.embed_tokens.weight", new int[] {c.vocabSize(), d});
        m.put("encoder.type_embedding.weight", new int[] {2, d});
        layerNorm(m, "encoder.layernorm_embedding", d);
        layerNorm(m, "encoder.patch_layernorm_embedding", d);
        linear(m, "encoder.image_proj", c.resnet().outputChannels(), d);
        m.put("encoder.embed_positions.weight", new int[] {c.maxPositions() + 2, d});
        m.put("encoder.embed_image_positions.weight", new int[] {c.imageBucketSize() * c.imageBucketSize() + 1, d});
        layerNorm(m, "encoder.pos_ln", d);
        layerNorm(m, "encoder.image_pos_ln", d);
        linear(m, "encoder.pos_q_linear", d, d);
        linear(m, "encoder.pos_k_linear", d, d);
        layerNorm(m, "encoder.layer_norm", d);
        resnet(m, "encoder.embed_images.", c.resnet());
        for (int i = 0; i < c.encoderLayers(); i++) {
            String p = "encoder.layers." + i + ".";
            attention(m, p + "self_attn", d, h);
            layerNorm(m, p + "self_attn_layer_norm", d);
            layerNorm(m, p + "attn_ln", d);
            ffn(m, p, d, f);
            m.put("encoder.token_rel_pos_table_list." + i + ".weight", new int[] {2 * c.tokenBucketSize() - 1, h});
            int side = 2 * c.imageBucketSize() - 1;
            m.put("encoder.image_rel_pos_table_list." + i + ".weight", new int[] {side * side + 3, h});
        }
        layerNorm(m, "decoder.layernorm_embedding", d);
        m.put("decoder.embed_positions.weight", new int[] {c.maxPositions() + 2, d});
        layerNorm(m, "decoder.pos_ln", d);
        linear(m, "decoder.self_pos_q_linear", d, d);
        linear(m, "decoder.self_pos_k_linear", d, d);
        linear(m, "decoder.cross_pos_q_linear", d, d);
        linear(m, "decoder.cross_pos_k_linear", d, d);
        layerNorm(m, "decoder.layer_norm", d);
        for (int i = 0; i < c.decoderLayers(); i++) {
            String p = "decoder.layers." + i + ".";
            attention(m, p + "self_attn", d, h);
            layerNorm(m, p + "self_attn_layer_norm", d);
            layerNorm(m, p + "self_attn_ln", d);
            attention(m, p + "encoder_attn", d, h);
            layerNorm(m, p + "encoder_attn_layer_norm", d);
            layerNorm(m, p + "cross_attn_ln", d);
            ffn(m, p, d, f);
            m.put("decoder.token_rel_pos_table_list." + i + ".weight", new int[] {2 * c.tokenBucketSize() - 1, h});
        }
        return m;
    }

    private static void ffn(Map<String, int[]> m, String p, int d, int f) {
        linear(m, p + "fc1", d, f);
        linear(m, p + "fc2", f, d);
        layerNorm(m, p + "ffn_layernorm", f);
        layerNorm(m, p + "final_layer_norm", d);
    }

    private static void attention(Map<String, int[]> m, String p, int d, int h) {
        linear(m, p + ".q_proj", d, d);
        linear(m, p + ".k_proj", d, d);
        linear(m, p + ".v_proj", d, d);
        linear(m, p + ".out_proj", d, d);
        m.put(p + ".c_attn", new int[] {h});
    }

    private static void linear(Map<String, int[]> m, String p, int in, int out) {
        m.put(p + ".weight", new int[] {out, in});
        m.put(p + ".bias", new int[] {out});
    }

    private static void layerNorm(Map<String, int[]> m, String p, int d) {
        m.put(p + ".weight", new int[] {d});
        m.put(p + ".bias", new int[] {d});
    }

    private static void batchNorm(Map<String, int[]> m, String p, int c) {
        m.put(p + ".weight", new int[] {c});
        m.put(p + ".bias", new int[] {c});
        m.put(p + ".running_mean", new int[] {c});
        m.put(p + ".running_var", new int[] {c});
    }

    private static void resnet(Map<String, int[]> m, String p, ResNetConfig r) {
        m.put(p + "conv1.weight", new int[] {r.stemChannels(), 3, 7, 7});
        batchNorm(m, p + "bn1", r.stemChannels());
        int in = r.stemChannels();
        for (int s = 0; s < 3; s++) {
            int w = r.width(s);
            int out = r.outChannels(s);
            for (int b = 0; b < r.blocks(s); b++) {
                String q = p + "layer" + (s + 1) + "." + b + ".";
                m.put(q + "conv1.weight", new int[] {w, in, 1, 1});
                batchNorm(m, q + "bn1", w);
                m.put(q + "conv2.weight", new int[] {w, w, 3, 3});
                batchNorm(m, q + "bn2", w);
                m.put(q + "conv3.weight", new int[] {out, w, 1, 1});
                batchNorm(m, q + "bn3", out);
                if (b == 0 && (in != out || stageStride(s) != 1)) {
                    m.put(q + "downsample.0.weight", new int[] {out, in, 1, 1});
                    batchNorm(m, q + "downsample.1", out);
                }
                in = out;
            }
        }
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
