package dev.mue.backend.tf;

import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.plan.BiasBlock;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PositionBiases;
import java.util.ArrayList;
import java.util.List;

/**
 * A plan's resolved weights ({@link ResolvedWeights}, BatchNorm already folded to a per-channel
 * scale and shift) and folded position biases laid out on the host the way the TF graphs take them:
 * linear weights transposed to {@code [in, out]}, convolutions to {@code HWIO} with the scale
 * multiplied into the filters, the per-head {@code c_attn} expanded to a {@code [d]} vector, and
 * each attention site's bias densified per layer ({@link BiasBlock#denseLayers}). Built once per
 * prepared plan; {@link TfModel} turns it into constants of a graph or an eager session.
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

    /**
     * One convolution with its folded BatchNorm: the scale multiplied into the filter, the shift
     * added after the convolution.
     */
    record Conv(Host filter, Host shift, int kernel, int stride, int pad) {
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
        ResolvedWeights w = plan.weights();
        this.config = c;
        int d = c.dModel();
        embedTokens = new Host(w.embedTokens(), c.vocabSize(), d);
        typeText = vec(w.textType());
        typeImage = vec(w.imageType());
        textEmbedLnW = vec(w.textEmbedLn().w());
        textEmbedLnB = vec(w.textEmbedLn().b());
        imageEmbedLnW = vec(w.imageEmbedLn().w());
        imageEmbedLnB = vec(w.imageEmbedLn().b());
        imageProjW = transposed(w.imageProj());
        imageProjB = vec(w.imageProj().b());
        encoderOutLnW = vec(w.encoderOutLn().w());
        encoderOutLnB = vec(w.encoderOutLn().b());
        decoderEmbedLnW = vec(w.decoderEmbedLn().w());
        decoderEmbedLnB = vec(w.decoderEmbedLn().b());
        decoderOutLnW = vec(w.decoderOutLn().w());
        decoderOutLnB = vec(w.decoderOutLn().b());
        encoder = new ArrayList<>();
        for (ResolvedWeights.Layer layer : w.encoder()) {
            List<Host> l = new ArrayList<>();
            selfBlock(l, layer, c);
            encoder.add(List.copyOf(l));
        }
        decoder = new ArrayList<>();
        cross = new ArrayList<>();
        for (ResolvedWeights.Layer layer : w.decoder()) {
            List<Host> l = new ArrayList<>();
            selfBlock(l, layer, c);
            ResolvedWeights.Attention x = layer.cross();
            l.add(vec(layer.crossLn().w()));
            l.add(vec(layer.crossLn().b()));
            l.add(transposed(x.q()));
            l.add(vec(x.q().b()));
            l.add(transposed(x.o()));
            l.add(vec(x.o().b()));
            l.add(headScale(x.cAttn(), c));
            l.add(vec(layer.crossPostLn().w()));
            l.add(vec(layer.crossPostLn().b()));
            decoder.add(List.copyOf(l));
            cross.add(List.of(transposed(x.k()), vec(x.k().b()), transposed(x.v()), vec(x.v().b())));
        }
        stem = conv(w.stem());
        blocks = new ArrayList<>();
        for (List<ResolvedWeights.Bottleneck> stage : w.stages()) {
            for (ResolvedWeights.Bottleneck b : stage) {
                blocks.add(new Block(conv(b.c1()), conv(b.c2()), conv(b.c3()), b.down() == null ? null : conv(b.down())));
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

    private static void selfBlock(List<Host> l, ResolvedWeights.Layer layer, ModelConfig c) {
        ResolvedWeights.Attention a = layer.self();
        l.add(vec(layer.selfLn().w()));
        l.add(vec(layer.selfLn().b()));
        for (ResolvedWeights.Linear proj : List.of(a.q(), a.k(), a.v(), a.o())) {
            l.add(transposed(proj));
            l.add(vec(proj.b()));
        }
        l.add(headScale(a.cAttn(), c));
        l.add(vec(layer.selfPostLn().w()));
        l.add(vec(layer.selfPostLn().b()));
        l.add(vec(layer.ffnInLn().w()));
        l.add(vec(layer.ffnInLn().b()));
        l.add(transposed(layer.fc1()));
        l.add(vec(layer.fc1().b()));
        l.add(vec(layer.ffnMidLn().w()));
        l.add(vec(layer.ffnMidLn().b()));
        l.add(transposed(layer.fc2()));
        l.add(vec(layer.fc2().b()));
    }

    private static Host vec(float[] v) {
        return new Host(v, v.length);
    }

    /** A linear layer's {@code [out, in]} row-major weight as {@code [in, out]}. */
    private static Host transposed(ResolvedWeights.Linear lin) {
        float[] m = lin.w();
        int out = lin.out();
        int in = lin.in();
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

    /**
     * A convolution {@code [out, in, k, k]} as HWIO with the plan's folded BatchNorm scale
     * multiplied into each output channel's filter ({@code conv(x, w) * s = conv(x, w * s)}, one
     * rounding per weight instead of a multiply over every output element), and its shift.
     */
    private static Conv conv(ResolvedWeights.ConvBn cb) {
        float[] f = cb.w();
        float[] scale = cb.scale();
        int in = cb.in();
        int out = cb.out();
        int k = cb.kernel();
        float[] hwio = new float[f.length];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                for (int y = 0; y < k; y++) {
                    for (int x = 0; x < k; x++) {
                        hwio[((y * k + x) * in + i) * out + o] = f[((o * in + i) * k + y) * k + x] * scale[o];
                    }
                }
            }
        }
        return new Conv(new Host(hwio, k, k, in, out), vec(cb.shift()), k, cb.stride(), cb.pad());
    }

    /** Per layer, the site's full bias {@code [H, rows, cols]}; layers share one array without a relative part. */
    private static List<Host> dense(BiasBlock b, int layers) {
        if (b == null) {
            return null;
        }
        List<Host> out = new ArrayList<>();
        float[][] host = b.denseLayers(layers);
        for (int l = 0; l < layers; l++) {
            out.add(l > 0 && host[l] == host[l - 1] ? out.get(l - 1) : new Host(host[l], b.heads(), b.rows(), b.cols()));
        }
        return List.copyOf(out);
    }
}
