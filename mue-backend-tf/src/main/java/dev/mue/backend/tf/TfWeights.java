package dev.mue.backend.tf;

import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.model.WeightLayout;
import dev.mue.api.model.Weights;
import dev.mue.api.plan.BiasBlock;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PositionBiases;
import java.util.ArrayList;
import java.util.List;

/**
 * A plan's weights and folded position biases laid out on the host the way the TF graphs take them:
 * linear weights transposed to {@code [in, out]}, convolutions to {@code HWIO}, BatchNorm folded to
 * a per-channel scale and shift, the per-head {@code c_attn} expanded to a {@code [d]} vector, and
 * each attention site's bias densified per layer ({@link BiasBlock#at}). Built once per prepared
 * plan; {@link TfModel} turns it into constants of a graph or an eager session.
 */
final class TfWeights {

    /** A float tensor on the host. */
    record Host(float[] data, long... shape) {
    }

    /** Slots of one encoder layer's weight list, in the order the graph functions take them. */
    static final int LN1_W = 0, LN1_B = 1, Q_W = 2, Q_B = 3, K_W = 4, K_B = 5, V_W = 6, V_B = 7, O_W = 8, O_B = 9,
            C_ATTN = 10, POST1_W = 11, POST1_B = 12, FFN_LN_W = 13, FFN_LN_B = 14, FC1_W = 15, FC1_B = 16,
            MID_W = 17, MID_B = 18, FC2_W = 19, FC2_B = 20;
    /** Number of slots of an encoder layer. */
    static final int ENCODER_SLOTS = 21;
    /** Extra slots of a decoder layer: the cross-attention block (its K/V projections live in {@link #cross}). */
    static final int LN2_W = 21, LN2_B = 22, CQ_W = 23, CQ_B = 24, CO_W = 25, CO_B = 26, C_CATTN = 27, POST2_W = 28,
            POST2_B = 29;
    /** Number of slots of a decoder layer. */
    static final int DECODER_SLOTS = 30;

    /** One convolution with its folded BatchNorm. */
    record Conv(Host filter, Host scale, Host shift, int kernel, int stride, int pad) {
    }

    /** One bottleneck block; {@code down} is null without a projection shortcut. */
    record Block(Conv c1, Conv c2, Conv c3, Conv down) {
    }

    final ModelConfig config;
    final Host embedTokens;
    final Host typeText;
    final Host typeImage;
    final Host textEmbedLnW;
    final Host textEmbedLnB;
    final Host imageEmbedLnW;
    final Host imageEmbedLnB;
    final Host imageProjW;
    final Host imageProjB;
    final Host encoderOutLnW;
    final Host encoderOutLnB;
    final Host decoderEmbedLnW;
    final Host decoderEmbedLnB;
    final Host decoderOutLnW;
    final Host decoderOutLnB;
    /** Per encoder layer, {@link #ENCODER_SLOTS} tensors. */
    final List<List<Host>> encoder;
    /** Per decoder layer, {@link #DECODER_SLOTS} tensors. */
    final List<List<Host>> decoder;
    /** Per decoder layer: cross-attention k weight, k bias, v weight, v bias. */
    final List<List<Host>> cross;
    final Conv stem;
    final List<Block> blocks;
    /** Per encoder layer, the dense bias {@code [H, rows, cols]} of each site (null when the site is absent). */
    final List<Host> textBias;
    final List<Host> imageBias;
    final List<Host> jointBias;
    /** Per decoder layer, the self-attention bias {@code [H, P, P]}. */
    final List<Host> decoderSelfBias;
    /** The cross-attention bias {@code [H, P, I + maxText]} (absolute only, shared by every layer). */
    final Host crossBias;

    TfWeights(Plan plan) {
        ModelConfig c = plan.config();
        Weights w = plan.model().weights();
        this.config = c;
        int d = c.dModel();
        embedTokens = new Host(w.data("encoder.embed_tokens.weight"), c.vocabSize(), d);
        float[] type = w.data("encoder.type_embedding.weight");
        typeText = new Host(java.util.Arrays.copyOfRange(type, 0, d), d);
        typeImage = new Host(java.util.Arrays.copyOfRange(type, d, 2 * d), d);
        textEmbedLnW = vec(w, "encoder.layernorm_embedding.weight");
        textEmbedLnB = vec(w, "encoder.layernorm_embedding.bias");
        imageEmbedLnW = vec(w, "encoder.patch_layernorm_embedding.weight");
        imageEmbedLnB = vec(w, "encoder.patch_layernorm_embedding.bias");
        int ch = c.resnet().outputChannels();
        imageProjW = transposed(w.data("encoder.image_proj.weight"), d, ch);
        imageProjB = vec(w, "encoder.image_proj.bias");
        encoderOutLnW = vec(w, "encoder.layer_norm.weight");
        encoderOutLnB = vec(w, "encoder.layer_norm.bias");
        decoderEmbedLnW = vec(w, "decoder.layernorm_embedding.weight");
        decoderEmbedLnB = vec(w, "decoder.layernorm_embedding.bias");
        decoderOutLnW = vec(w, "decoder.layer_norm.weight");
        decoderOutLnB = vec(w, "decoder.layer_norm.bias");
        encoder = new ArrayList<>();
        for (int i = 0; i < c.encoderLayers(); i++) {
            String p = "encoder.layers." + i + ".";
            List<Host> l = new ArrayList<>();
            selfBlock(l, w, c, p, "attn_ln");
            encoder.add(List.copyOf(l));
        }
        decoder = new ArrayList<>();
        cross = new ArrayList<>();
        for (int i = 0; i < c.decoderLayers(); i++) {
            String p = "decoder.layers." + i + ".";
            List<Host> l = new ArrayList<>();
            selfBlock(l, w, c, p, "self_attn_ln");
            l.add(vec(w, p + "encoder_attn_layer_norm.weight"));
            l.add(vec(w, p + "encoder_attn_layer_norm.bias"));
            l.add(transposed(w.data(p + "encoder_attn.q_proj.weight"), d, d));
            l.add(vec(w, p + "encoder_attn.q_proj.bias"));
            l.add(transposed(w.data(p + "encoder_attn.out_proj.weight"), d, d));
            l.add(vec(w, p + "encoder_attn.out_proj.bias"));
            l.add(headScale(w.data(p + "encoder_attn.c_attn"), c));
            l.add(vec(w, p + "cross_attn_ln.weight"));
            l.add(vec(w, p + "cross_attn_ln.bias"));
            decoder.add(List.copyOf(l));
            cross.add(List.of(transposed(w.data(p + "encoder_attn.k_proj.weight"), d, d),
                    vec(w, p + "encoder_attn.k_proj.bias"),
                    transposed(w.data(p + "encoder_attn.v_proj.weight"), d, d),
                    vec(w, p + "encoder_attn.v_proj.bias")));
        }
        ResNetConfig r = c.resnet();
        String rp = "encoder.embed_images.";
        double eps = c.layerNormEps();
        stem = conv(w, rp + "conv1", rp + "bn1", 3, r.stemChannels(), 7, 2, 3, eps);
        blocks = new ArrayList<>();
        int in = r.stemChannels();
        for (int s = 0; s < 3; s++) {
            int width = r.width(s);
            int out = r.outChannels(s);
            for (int b = 0; b < r.blocks(s); b++) {
                String q = rp + "layer" + (s + 1) + "." + b + ".";
                int stride = b == 0 ? WeightLayout.stageStride(s) : 1;
                Conv down = WeightLayout.hasDownsample(r, s, b)
                        ? conv(w, q + "downsample.0", q + "downsample.1", in, out, 1, stride, 0, eps) : null;
                blocks.add(new Block(conv(w, q + "conv1", q + "bn1", in, width, 1, 1, 0, eps),
                        conv(w, q + "conv2", q + "bn2", width, width, 3, stride, 1, eps),
                        conv(w, q + "conv3", q + "bn3", width, out, 1, 1, 0, eps), down));
                in = out;
            }
        }
        PositionBiases pb = plan.biases();
        textBias = dense(pb.encoderText(), c.encoderLayers());
        imageBias = dense(pb.encoderImage(), c.encoderLayers());
        jointBias = dense(pb.encoderJoint(), c.encoderLayers());
        decoderSelfBias = dense(pb.decoderSelf(), c.decoderLayers());
        BiasBlock cb = pb.decoderCross();
        crossBias = new Host(cb.abs(), cb.heads(), cb.rows(), cb.cols());
    }

    /** Every host array, each once. */
    List<Host> all() {
        java.util.Set<Host> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        List<Host> out = new ArrayList<>();
        java.util.function.Consumer<Host> add = h -> {
            if (h != null && seen.add(h)) {
                out.add(h);
            }
        };
        for (Host h : new Host[] {embedTokens, typeText, typeImage, textEmbedLnW, textEmbedLnB, imageEmbedLnW,
            imageEmbedLnB, imageProjW, imageProjB, encoderOutLnW, encoderOutLnB, decoderEmbedLnW, decoderEmbedLnB,
            decoderOutLnW, decoderOutLnB, crossBias}) {
            add.accept(h);
        }
        encoder.forEach(l -> l.forEach(add));
        decoder.forEach(l -> l.forEach(add));
        cross.forEach(l -> l.forEach(add));
        for (Conv c : convs()) {
            add.accept(c.filter());
            add.accept(c.scale());
            add.accept(c.shift());
        }
        for (List<Host> bias : java.util.Arrays.asList(textBias, imageBias, jointBias, decoderSelfBias)) {
            if (bias != null) {
                bias.forEach(add);
            }
        }
        return out;
    }

    private List<Conv> convs() {
        List<Conv> out = new ArrayList<>(List.of(stem));
        for (Block b : blocks) {
            out.add(b.c1());
            out.add(b.c2());
            out.add(b.c3());
            if (b.down() != null) {
                out.add(b.down());
            }
        }
        return out;
    }

    private static void selfBlock(List<Host> l, Weights w, ModelConfig c, String p, String postLn) {
        int d = c.dModel();
        l.add(vec(w, p + "self_attn_layer_norm.weight"));
        l.add(vec(w, p + "self_attn_layer_norm.bias"));
        for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            l.add(transposed(w.data(p + "self_attn." + proj + ".weight"), d, d));
            l.add(vec(w, p + "self_attn." + proj + ".bias"));
        }
        l.add(headScale(w.data(p + "self_attn.c_attn"), c));
        l.add(vec(w, p + postLn + ".weight"));
        l.add(vec(w, p + postLn + ".bias"));
        l.add(vec(w, p + "final_layer_norm.weight"));
        l.add(vec(w, p + "final_layer_norm.bias"));
        l.add(transposed(w.data(p + "fc1.weight"), c.ffnDim(), d));
        l.add(vec(w, p + "fc1.bias"));
        l.add(vec(w, p + "ffn_layernorm.weight"));
        l.add(vec(w, p + "ffn_layernorm.bias"));
        l.add(transposed(w.data(p + "fc2.weight"), d, c.ffnDim()));
        l.add(vec(w, p + "fc2.bias"));
    }

    private static Host vec(Weights w, String name) {
        float[] v = w.data(name);
        return new Host(v, v.length);
    }

    /** A {@code [out, in]} row-major matrix as {@code [in, out]}. */
    private static Host transposed(float[] m, int out, int in) {
        float[] t = new float[m.length];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                t[i * out + o] = m[o * in + i];
            }
        }
        return new Host(t, in, out);
    }

    /** The per-head scale {@code [H]} as a {@code [d]} vector (head h covers columns h*hd .. h*hd+hd-1). */
    private static Host headScale(float[] perHead, ModelConfig c) {
        int hd = c.headDim();
        float[] v = new float[c.dModel()];
        for (int h = 0; h < c.heads(); h++) {
            for (int j = 0; j < hd; j++) {
                v[h * hd + j] = perHead[h];
            }
        }
        return new Host(v, v.length);
    }

    /** A convolution {@code [out, in, k, k]} as HWIO, with its BatchNorm folded as the Java backend folds it. */
    private static Conv conv(Weights w, String conv, String bn, int in, int out, int k, int stride, int pad,
            double eps) {
        float[] f = w.data(conv + ".weight");
        float[] hwio = new float[f.length];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                for (int y = 0; y < k; y++) {
                    for (int x = 0; x < k; x++) {
                        hwio[((y * k + x) * in + i) * out + o] = f[((o * in + i) * k + y) * k + x];
                    }
                }
            }
        }
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
        return new Conv(new Host(hwio, k, k, in, out), new Host(scale, out), new Host(shift, out), k, stride, pad);
    }

    /** Per layer, the site's full bias {@code [H, rows, cols]}; layers share one array without a relative part. */
    private static List<Host> dense(BiasBlock b, int layers) {
        if (b == null) {
            return null;
        }
        List<Host> out = new ArrayList<>();
        Host shared = b.hasRelative() ? null : new Host(b.abs(), b.heads(), b.rows(), b.cols());
        int plane = b.rows() * b.cols();
        for (int l = 0; l < layers; l++) {
            if (shared != null) {
                out.add(shared);
                continue;
            }
            float[] m = new float[b.heads() * plane];
            for (int h = 0; h < b.heads(); h++) {
                for (int i = 0; i < b.rows(); i++) {
                    for (int j = 0; j < b.cols(); j++) {
                        m[h * plane + i * b.cols() + j] = b.at(l, h, i, j);
                    }
                }
            }
            out.add(new Host(m, b.heads(), b.rows(), b.cols()));
        }
        return List.copyOf(out);
    }
}
