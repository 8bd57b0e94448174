package dev.mue.backend.java;

import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.WeightLayout;
import dev.mue.api.model.Weights;
import dev.mue.api.model.ResNetConfig;

/**
 * The model's parameters regrouped by layer for the Java backend, read once at prepare time.
 * Arrays are shared with the loaded weights, never copied or modified.
 */
final class JvParams {

    /** A linear layer, weight {@code [out, in]}. */
    record Lin(float[] w, float[] b, int in, int out) {
    }

    /** A LayerNorm. */
    record Ln(float[] w, float[] b) {
    }

    /** One attention block: projections and the per-head output scale. */
    record Attn(Lin q, Lin k, Lin v, Lin o, float[] cAttn) {
    }

    /** A pre-LN transformer layer with NormFormer extras; {@code cross} fields are null in the encoder. */
    record Layer(Ln selfLn, Attn self, Ln selfPostLn, Ln crossLn, Attn cross, Ln crossPostLn, Ln ffnInLn, Lin fc1,
            Ln ffnMidLn, Lin fc2) {
    }

    /** A convolution followed by BatchNorm, folded to a per-channel scale and shift. */
    record ConvBn(float[] w, int in, int out, int kernel, int stride, int pad, float[] scale, float[] shift) {
    }

    /** One bottleneck block. */
    record Bottleneck(ConvBn c1, ConvBn c2, ConvBn c3, ConvBn down) {
    }

    final ModelConfig config;
    final float[] embedTokens;
    final float[] typeEmbedding;
    final Ln textEmbedLn;
    final Ln imageEmbedLn;
    final Lin imageProj;
    final Ln encoderOutLn;
    final Layer[] encoder;
    final Ln decoderEmbedLn;
    final Ln decoderOutLn;
    final Layer[] decoder;
    final Lin lmHead;
    final ConvBn stem;
    final Bottleneck[][] stages;

    JvParams(ModelConfig c, Weights w) {
        this.config = c;
        int d = c.dModel();
        embedTokens = w.data("encoder.embed_tokens.weight");
        typeEmbedding = w.data("encoder.type_embedding.weight");
        textEmbedLn = ln(w, "encoder.layernorm_embedding");
        imageEmbedLn = ln(w, "encoder.patch_layernorm_embedding");
        imageProj = lin(w, "encoder.image_proj", c.resnet().outputChannels(), d);
        encoderOutLn = ln(w, "encoder.layer_norm");
        encoder = new Layer[c.encoderLayers()];
        for (int i = 0; i < encoder.length; i++) {
            String p = "encoder.layers." + i + ".";
            encoder[i] = new Layer(ln(w, p + "self_attn_layer_norm"), attn(w, p + "self_attn", d),
                    ln(w, p + "attn_ln"), null, null, null, ln(w, p + "final_layer_norm"),
                    lin(w, p + "fc1", d, c.ffnDim()), ln(w, p + "ffn_layernorm"), lin(w, p + "fc2", c.ffnDim(), d));
        }
        decoderEmbedLn = ln(w, "decoder.layernorm_embedding");
        decoderOutLn = ln(w, "decoder.layer_norm");
        decoder = new Layer[c.decoderLayers()];
        for (int i = 0; i < decoder.length; i++) {
            String p = "decoder.layers." + i + ".";
            decoder[i] = new Layer(ln(w, p + "self_attn_layer_norm"), attn(w, p + "self_attn", d),
                    ln(w, p + "self_attn_ln"), ln(w, p + "encoder_attn_layer_norm"), attn(w, p + "encoder_attn", d),
                    ln(w, p + "cross_attn_ln"), ln(w, p + "final_layer_norm"), lin(w, p + "fc1", d, c.ffnDim()),
                    ln(w, p + "ffn_layernorm"), lin(w, p + "fc2", c.ffnDim(), d));
        }
        lmHead = new Lin(embedTokens, null, d, c.vocabSize());
        ResNetConfig r = c.resnet();
        String rp = "encoder.embed_images.";
        stem = convBn(w, rp + "conv1", rp + "bn1", 3, r.stemChannels(), 7, 2, 3, c.layerNormEps());
        stages = new Bottleneck[3][];
        int in = r.stemChannels();
        for (int s = 0; s < 3; s++) {
            stages[s] = new Bottleneck[r.blocks(s)];
            int width = r.width(s);
            int out = r.outChannels(s);
            for (int b = 0; b < r.blocks(s); b++) {
                String q = rp + "layer" + (s + 1) + "." + b + ".";
                int stride = b == 0 ? WeightLayout.stageStride(s) : 1;
                ConvBn down = WeightLayout.hasDownsample(r, s, b)
                        ? convBn(w, q + "downsample.0", q + "downsample.1", in, out, 1, stride, 0, c.layerNormEps())
                        : null;
                stages[s][b] = new Bottleneck(convBn(w, q + "conv1", q + "bn1", in, width, 1, 1, 0, c.layerNormEps()),
                        convBn(w, q + "conv2", q + "bn2", width, width, 3, stride, 1, c.layerNormEps()),
                        convBn(w, q + "conv3", q + "bn3", width, out, 1, 1, 0, c.layerNormEps()), down);
                in = out;
            }
        }
    }

    private static Ln ln(Weights w, String p) {
        return new Ln(w.data(p + ".weight"), w.data(p + ".bias"));
    }

    private static Lin lin(Weights w, String p, int in, int out) {
        return new Lin(w.data(p + ".weight"), w.data(p + ".bias"), in, out);
    }

    private static Attn attn(Weights w, String p, int d) {
        return new Attn(lin(w, p + ".q_proj", d, d), lin(w, p + ".k_proj", d, d), lin(w, p + ".v_proj", d, d),
                lin(w, p + ".out_proj", d, d), w.data(p + ".c_attn"));
    }

    private static ConvBn convBn(Weights w, String conv, String bn, int in, int out, int k, int stride, int pad,
            double eps) {
        float[] g = w.data(bn + ".weight");
        float[] b = w.data(bn + ".bias");
        float[] mean = w.data(bn + ".running_mean");
        float[] var = w.data(bn + ".running_var");
        float[] scale = new float[out];
        float[] shift = new float[out];
        for (int i = 0; i < out; i++) {
            double s = g[i] / Math.sqrt(var[i] + eps);
            scale[i] = (float) s;
            shift[i] = (float) (b[i] - mean[i] * s);
        }
        return new ConvBn(w.data(conv + ".weight"), in, out, k, stride, pad, scale, shift);
    }
}
