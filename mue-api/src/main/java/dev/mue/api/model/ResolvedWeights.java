package dev.mue.api.model;

import java.util.List;

/**
 * A model's parameters resolved once from their fairseq key names into typed, per-layer records,
 * so that no backend names a key or folds anything: {@link WeightLayout#resolve} is the one place
 * that reads keys, and the planner resolves a model once per plan ({@code Plan.weights()}).
 *
 * <p>Matrices are row-major float32 in OFA's own layout (a linear weight is {@code [out, in]}, a
 * convolution {@code [out, in, k, k]}); a backend re-lays them out for its own kernels. Each
 * convolution's BatchNorm (running statistics) is folded once, here, into a per-channel scale and
 * shift ({@link ConvBn}). Arrays are shared with the loaded {@link Weights} and must not be
 * modified.
 *
 * @param embedTokens     token embedding {@code [vocab, d]}, tied to the decoder input and the LM head
 * @param textType        type embedding 0 (text), {@code [d]}
 * @param imageType       type embedding 1 (image), {@code [d]}
 * @param textEmbedLn     {@code encoder.layernorm_embedding}
 * @param imageEmbedLn    {@code encoder.patch_layernorm_embedding}
 * @param imageProj       backbone channels to d
 * @param encoderOutLn    the encoder's final LayerNorm
 * @param encoder         the encoder layers ({@code cross*} fields null)
 * @param decoderEmbedLn  {@code decoder.layernorm_embedding}
 * @param decoderOutLn    the decoder's final LayerNorm
 * @param decoder         the decoder layers
 * @param stem            the backbone's 7x7/2 convolution with its BatchNorm
 * @param stages          the backbone's three bottleneck stages
 * @param positions       what the planner folds into the attention biases
 */
public record ResolvedWeights(float[] embedTokens, float[] textType, float[] imageType, Norm textEmbedLn,
        Norm imageEmbedLn, Linear imageProj, Norm encoderOutLn, List<Layer> encoder, Norm decoderEmbedLn,
        Norm decoderOutLn, List<Layer> decoder, ConvBn stem, List<List<Bottleneck>> stages, Positions positions) {

    /** Copies the lists. */
    public ResolvedWeights {
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
        stages = stages.stream().map(List::copyOf).toList();
    }

    /**
     * A linear layer {@code y = x W^T + b}.
     *
     * @param w   weight {@code [out, in]}
     * @param b   bias {@code [out]}, or null (the tied LM head has none)
     * @param in  input features
     * @param out output features
     */
    public record Linear(float[] w, float[] b, int in, int out) {
    }

    /** A LayerNorm's gain {@code w} and shift {@code b}. */
    public record Norm(float[] w, float[] b) {
    }

    /** One attention block: the four projections and NormFormer's per-head output scale {@code [H]}. */
    public record Attention(Linear q, Linear k, Linear v, Linear o, float[] cAttn) {
    }

    /**
     * A pre-LN transformer layer with NormFormer's extra norms; {@code cross*} are null in the
     * encoder.
     *
     * @param selfLn      before self-attention ({@code self_attn_layer_norm})
     * @param self        self-attention
     * @param selfPostLn  after self-attention ({@code attn_ln} in the encoder, {@code self_attn_ln} in the decoder)
     * @param crossLn     before cross-attention ({@code encoder_attn_layer_norm})
     * @param cross       cross-attention
     * @param crossPostLn after cross-attention ({@code cross_attn_ln})
     * @param ffnInLn     before the FFN ({@code final_layer_norm})
     * @param fc1         d to ffn
     * @param ffnMidLn    after the GELU ({@code ffn_layernorm})
     * @param fc2         ffn to d
     */
    public record Layer(Norm selfLn, Attention self, Norm selfPostLn, Norm crossLn, Attention cross,
            Norm crossPostLn, Norm ffnInLn, Linear fc1, Norm ffnMidLn, Linear fc2) {
    }

    /**
     * A convolution followed by its BatchNorm, folded: {@code y = conv(x, w) * scale + shift} per
     * output channel, with {@code scale = gamma / sqrt(var + eps)} and
     * {@code shift = beta - mean * scale} computed in double precision and rounded once.
     *
     * @param w      weight {@code [out, in, kernel, kernel]}, without the scale
     * @param in     input channels
     * @param out    output channels
     * @param kernel kernel side
     * @param stride stride
     * @param pad    zero padding on each side
     * @param scale  per output channel
     * @param shift  per output channel
     */
    public record ConvBn(float[] w, int in, int out, int kernel, int stride, int pad, float[] scale, float[] shift) {

        /**
         * A new array: the weight with the scale multiplied into each output channel's filter, for
         * backends that run the folded BatchNorm as one convolution plus a bias ({@link #shift}).
         */
        public float[] scaledWeight() {
            float[] folded = w.clone();
            int per = folded.length / out;
            for (int o = 0; o < out; o++) {
                for (int i = o * per; i < (o + 1) * per; i++) {
                    folded[i] *= scale[o];
                }
            }
            return folded;
        }
    }

    /** One bottleneck block; {@code down} is null without a projection shortcut. */
    public record Bottleneck(ConvBn c1, ConvBn c2, ConvBn c3, ConvBn down) {
    }

    /**
     * The parameters that enter only through the folded position biases (design §3: positions
     * are never added to embeddings).
     *
     * @param textPositions      {@code encoder.embed_positions} {@code [maxPositions + 2, d]}
     * @param imagePositions     {@code encoder.embed_image_positions} {@code [bucket^2 + 1, d]}
     * @param textPosLn          {@code encoder.pos_ln}
     * @param imagePosLn         {@code encoder.image_pos_ln}
     * @param encoderPosQ        {@code encoder.pos_q_linear}
     * @param encoderPosK        {@code encoder.pos_k_linear}
     * @param encoderTokenRel    per encoder layer, the token relative table {@code [2 * bucket - 1, H]}
     * @param encoderImageRel    per encoder layer, the image relative table {@code [side^2 + 3, H]}
     * @param decoderPositions   {@code decoder.embed_positions}
     * @param decoderPosLn       {@code decoder.pos_ln}
     * @param decoderSelfPosQ    {@code decoder.self_pos_q_linear}
     * @param decoderSelfPosK    {@code decoder.self_pos_k_linear}
     * @param decoderCrossPosQ   {@code decoder.cross_pos_q_linear}
     * @param decoderCrossPosK   {@code decoder.cross_pos_k_linear}
     * @param decoderTokenRel    per decoder layer, the token relative table
     */
    public record Positions(float[] textPositions, float[] imagePositions, Norm textPosLn, Norm imagePosLn,
            Linear encoderPosQ, Linear encoderPosK, List<float[]> encoderTokenRel, List<float[]> encoderImageRel,
            float[] decoderPositions, Norm decoderPosLn, Linear decoderSelfPosQ, Linear decoderSelfPosK,
            Linear decoderCrossPosQ, Linear decoderCrossPosK, List<float[]> decoderTokenRel) {

        /** Copies the lists. */
        public Positions {
            encoderTokenRel = List.copyOf(encoderTokenRel);
            encoderImageRel = List.copyOf(encoderImageRel);
            decoderTokenRel = List.copyOf(decoderTokenRel);
        }
    }
}
