package dev.mue.backend.torch.forward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.model.WeightLayout;
import dev.mue.api.model.Weights;
import dev.mue.api.plan.BiasBlock;
import dev.mue.api.plan.PositionBiases;
import dev.mue.api.tensor.FloatTensor;

/**
 * The model's parameters and the plan's folded position biases as tensors on the device, uploaded
 * once into a manager the caller owns, regrouped by layer like the Java backend's parameters.
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

    /** Uploads the weights of {@code c} and, when {@code biases} is not null, the plan's biases. */
    public PtParams(ModelConfig c, Weights w, PositionBiases biases, NDManager m) {
        this.config = c;
        int d = c.dModel();
        embedTokens = up(m, w.get("encoder.embed_tokens.weight"));
        float[] type = w.data("encoder.type_embedding.weight");
        textType = m.create(java.util.Arrays.copyOfRange(type, 0, d), new Shape(d));
        imageType = m.create(java.util.Arrays.copyOfRange(type, d, 2 * d), new Shape(d));
        textEmbedLn = ln(m, w, "encoder.layernorm_embedding", d);
        imageEmbedLn = ln(m, w, "encoder.patch_layernorm_embedding", d);
        imageProj = lin(m, w, "encoder.image_proj");
        encoderOutLn = ln(m, w, "encoder.layer_norm", d);
        encoder = new Layer[c.encoderLayers()];
        for (int i = 0; i < encoder.length; i++) {
            String p = "encoder.layers." + i + ".";
            encoder[i] = new Layer(ln(m, w, p + "self_attn_layer_norm", d), attn(m, w, p + "self_attn", c),
                    ln(m, w, p + "attn_ln", d), null, null, null, ln(m, w, p + "final_layer_norm", d),
                    lin(m, w, p + "fc1"), ln(m, w, p + "ffn_layernorm", c.ffnDim()), lin(m, w, p + "fc2"));
        }
        decoderEmbedLn = ln(m, w, "decoder.layernorm_embedding", d);
        decoderOutLn = ln(m, w, "decoder.layer_norm", d);
        decoder = new Layer[c.decoderLayers()];
        for (int i = 0; i < decoder.length; i++) {
            String p = "decoder.layers." + i + ".";
            decoder[i] = new Layer(ln(m, w, p + "self_attn_layer_norm", d), attn(m, w, p + "self_attn", c),
                    ln(m, w, p + "self_attn_ln", d), ln(m, w, p + "encoder_attn_layer_norm", d),
                    attn(m, w, p + "encoder_attn", c), ln(m, w, p + "cross_attn_ln", d),
                    ln(m, w, p + "final_layer_norm", d), lin(m, w, p + "fc1"), ln(m, w, p + "ffn_layernorm", c.ffnDim()),
                    lin(m, w, p + "fc2"));
        }
        ResNetConfig r = c.resnet();
        String rp = "encoder.embed_images.";
        stem = convBn(m, w, rp + "conv1", rp + "bn1", 2, 3, c.layerNormEps());
        stages = new Bottleneck[3][];
        for (int s = 0; s < 3; s++) {
            stages[s] = new Bottleneck[r.blocks(s)];
            for (int b = 0; b < r.blocks(s); b++) {
                String q = rp + "layer" + (s + 1) + "." + b + ".";
                int stride = b == 0 ? WeightLayout.stageStride(s) : 1;
                ConvBn down = WeightLayout.hasDownsample(r, s, b)
                        ? convBn(m, w, q + "downsample.0", q + "downsample.1", stride, 0, c.layerNormEps())
                        : null;
                stages[s][b] = new Bottleneck(convBn(m, w, q + "conv1", q + "bn1", 1, 0, c.layerNormEps()),
                        convBn(m, w, q + "conv2", q + "bn2", stride, 1, c.layerNormEps()),
                        convBn(m, w, q + "conv3", q + "bn3", 1, 0, c.layerNormEps()), down);
            }
        }
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

    private static NDArray up(NDManager m, FloatTensor t) {
        long[] shape = new long[t.shape().length];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = t.shape()[i];
        }
        return m.create(t.data(), new Shape(shape));
    }

    private static Ln ln(NDManager m, Weights w, String p, int dim) {
        return new Ln(up(m, w.get(p + ".weight")), up(m, w.get(p + ".bias")), new Shape(dim));
    }

    private static Lin lin(NDManager m, Weights w, String p) {
        return new Lin(up(m, w.get(p + ".weight")), up(m, w.get(p + ".bias")));
    }

    private static Attn attn(NDManager m, Weights w, String p, ModelConfig c) {
        return new Attn(lin(m, w, p + ".q_proj"), lin(m, w, p + ".k_proj"), lin(m, w, p + ".v_proj"),
                lin(m, w, p + ".out_proj"), m.create(w.data(p + ".c_attn"), new Shape(1, c.heads(), 1, 1)));
    }

    private static ConvBn convBn(NDManager m, Weights w, String conv, String bn, int stride, int pad, double eps) {
        float[] g = w.data(bn + ".weight");
        float[] b = w.data(bn + ".bias");
        float[] mean = w.data(bn + ".running_mean");
        float[] var = w.data(bn + ".running_var");
        int out = g.length;
        float[] scale = new float[out];
        float[] shift = new float[out];
        for (int i = 0; i < out; i++) {
            double s = g[i] / Math.sqrt(var[i] + eps);
            scale[i] = (float) s;
            shift[i] = (float) (b[i] - mean[i] * s);
        }
        FloatTensor kernel = w.get(conv + ".weight");
        float[] folded = kernel.data().clone();
        int per = folded.length / out;
        for (int o = 0; o < out; o++) {
            for (int i = o * per; i < (o + 1) * per; i++) {
                folded[i] *= scale[o];
            }
        }
        long[] shape = new long[kernel.shape().length];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = kernel.shape()[i];
        }
        return new ConvBn(m.create(folded, new Shape(shape)), m.create(shift), stride, pad);
    }

    /** Per layer, the dense bias {@code [H, rows, cols]}: absolute plus that layer's relative part. */
    private static NDArray[] dense(NDManager m, BiasBlock b, int layers) {
        if (b == null) {
            return null;
        }
        Shape shape = new Shape(b.heads(), b.rows(), b.cols());
        NDArray[] out = new NDArray[layers];
        if (!b.hasRelative()) {
            NDArray shared = m.create(b.abs(), shape);
            java.util.Arrays.fill(out, shared);
            return out;
        }
        int plane = b.rows() * b.cols();
        float[] dense = new float[b.heads() * plane];
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < b.heads(); h++) {
                for (int i = 0; i < b.rows(); i++) {
                    for (int j = 0; j < b.cols(); j++) {
                        dense[h * plane + i * b.cols() + j] = b.at(l, h, i, j);
                    }
                }
            }
            out[l] = m.create(dense, shape);
        }
        return out;
    }
}
