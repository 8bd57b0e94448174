package dev.mue.backend.torch.forward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.plan.BiasBlock;
import dev.mue.api.plan.PositionBiases;

/**
 * The plan's resolved weights ({@link ResolvedWeights}, BatchNorm already folded) and folded position
 * biases as tensors on the device, uploaded once into a manager the caller owns.
 * Every tensor is created here in the shape the forward code uses, so that no operation ever
 * derives a new tensor from a parameter into the parameters' manager.
 */
public final class PtParams {

    /** A linear layer, weight {@code [out, in]} as {@code torch.nn.functional.linear} takes it. */
    public record Lin(NDArray w, NDArray b) {
    }

    /** A LayerNorm over the last dimension of size {@code dim}. */
    public record Ln(NDArray w, NDArray b, Shape dim) {
    }

    /** One attention block; {@code cAttn} is the per-head output scale shaped {@code [1, H, 1, 1]}. */
    public record Attn(Lin q, Lin k, Lin v, Lin o, NDArray cAttn) {
    }

    /** A pre-LN transformer layer with NormFormer extras; {@code cross} fields are null in the encoder. */
    public record Layer(Ln selfLn, Attn self, Ln selfPostLn, Ln crossLn, Attn cross, Ln crossPostLn, Ln ffnInLn, Lin fc1,
            Ln ffnMidLn, Lin fc2) {
    }

    /**
     * A convolution with its BatchNorm (running statistics) folded in: the weight scaled per output
     * channel and the BatchNorm shift as the bias, so that inference and training run one
     * convolution op.
     */
    public record ConvBn(NDArray w, NDArray bias, int stride, int pad) {
    }

    /** One bottleneck block. */
    public record Bottleneck(ConvBn c1, ConvBn c2, ConvBn c3, ConvBn down) {
    }

    public final ModelConfig config;
    public final NDArray embedTokens;
    /** Type embedding 0 (text) and 1 (image), each {@code [d]}. */
    public final NDArray textType;
    public final NDArray imageType;
    public final Ln textEmbedLn;
    public final Ln imageEmbedLn;
    public final Lin imageProj;
    public final Ln encoderOutLn;
    public final Layer[] encoder;
    public final Ln decoderEmbedLn;
    public final Ln decoderOutLn;
    public final Layer[] decoder;
    public final ConvBn stem;
    public final Bottleneck[][] stages;
    /** Per layer, the dense folded bias {@code [H, rows, cols]} of each site; null when the plan has no such site. */
    public final NDArray[] textBias;
    public final NDArray[] imageBias;
    public final NDArray[] jointBias;
    public final NDArray[] decoderSelfBias;
    /** Cross-attention bias {@code [H, maxDecoder, I + maxText]}: absolute only, shared by every layer. */
    public final NDArray crossBias;

    /**
     * Uploads the plan's resolved weights {@code w} of a model of config {@code c} and, when
     * {@code biases} is not null, the plan's biases.
     */
    public PtParams(ModelConfig c, ResolvedWeights w, PositionBiases biases, NDManager m) {
        this.config = c;
        int d = c.dModel();
        embedTokens = m.create(w.embedTokens(), new Shape(c.vocabSize(), d));
        textType = m.create(w.textType(), new Shape(d));
        imageType = m.create(w.imageType(), new Shape(d));
        textEmbedLn = ln(m, w.textEmbedLn(), d);
        imageEmbedLn = ln(m, w.imageEmbedLn(), d);
        imageProj = lin(m, w.imageProj());
        encoderOutLn = ln(m, w.encoderOutLn(), d);
        encoder = w.encoder().stream().map(l -> layer(m, l, c)).toArray(Layer[]::new);
        decoderEmbedLn = ln(m, w.decoderEmbedLn(), d);
        decoderOutLn = ln(m, w.decoderOutLn(), d);
        decoder = w.decoder().stream().map(l -> layer(m, l, c)).toArray(Layer[]::new);
        stem = convBn(m, w.stem());
        stages = w.stages().stream().map(st -> st.stream().map(b -> new Bottleneck(convBn(m, b.c1()),
                convBn(m, b.c2()), convBn(m, b.c3()), b.down() == null ? null : convBn(m, b.down())))
                .toArray(Bottleneck[]::new)).toArray(Bottleneck[][]::new);
        if (biases == null) {
            textBias = imageBias = jointBias = decoderSelfBias = null;
            crossBias = null;
        } else {
            textBias = dense(m, biases.encoderText(), c.encoderLayers());
            imageBias = dense(m, biases.encoderImage(), c.encoderLayers());
            jointBias = dense(m, biases.encoderJoint(), c.encoderLayers());
            decoderSelfBias = dense(m, biases.decoderSelf(), c.decoderLayers());
            BiasBlock x = biases.decoderCross();
            crossBias = m.create(x.abs(), new Shape(x.heads(), x.rows(), x.cols()));
        }
    }

    private static Layer layer(NDManager m, ResolvedWeights.Layer l, ModelConfig c) {
        int d = c.dModel();
        boolean cross = l.cross() != null;
        return new Layer(ln(m, l.selfLn(), d), attn(m, l.self(), c), ln(m, l.selfPostLn(), d),
                cross ? ln(m, l.crossLn(), d) : null, cross ? attn(m, l.cross(), c) : null,
                cross ? ln(m, l.crossPostLn(), d) : null, ln(m, l.ffnInLn(), d), lin(m, l.fc1()),
                ln(m, l.ffnMidLn(), c.ffnDim()), lin(m, l.fc2()));
    }

    private static Ln ln(NDManager m, ResolvedWeights.Norm n, int dim) {
        return new Ln(m.create(n.w()), m.create(n.b()), new Shape(dim));
    }

    private static Lin lin(NDManager m, ResolvedWeights.Linear l) {
        return new Lin(m.create(l.w(), new Shape(l.out(), l.in())), m.create(l.b()));
    }

    private static Attn attn(NDManager m, ResolvedWeights.Attention a, ModelConfig c) {
        return new Attn(lin(m, a.q()), lin(m, a.k()), lin(m, a.v()), lin(m, a.o()),
                m.create(a.cAttn(), new Shape(1, c.heads(), 1, 1)));
    }

    private static ConvBn convBn(NDManager m, ResolvedWeights.ConvBn c) {
        return new ConvBn(m.create(c.scaledWeight(), new Shape(c.out(), c.in(), c.kernel(), c.kernel())),
                m.create(c.shift()), c.stride(), c.pad());
    }

    /** Per layer, the dense bias {@code [H, rows, cols]}: absolute plus that layer's relative part. */
    private static NDArray[] dense(NDManager m, BiasBlock b, int layers) {
        if (b == null) {
            return null;
        }
        Shape shape = new Shape(b.heads(), b.rows(), b.cols());
        float[][] host = b.denseLayers(layers);
        NDArray[] out = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            // Layers without a relative part share one host array: upload it once.
            out[l] = l > 0 && host[l] == host[l - 1] ? out[l - 1] : m.create(host[l], shape);
        }
        return out;
    }
}
