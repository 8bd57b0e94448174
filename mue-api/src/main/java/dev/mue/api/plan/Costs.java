package dev.mue.api.plan;

import dev.mue.api.model.ModelConfig;

/**
 * FLOP estimates of the transformer's parts (a multiply-add counts as two); the planner's node
 * costs and the traces' FLOP-weighted time reduction both use these.
 */
public final class Costs {
    private Costs() {
    }

    /** A linear map of {@code rows} vectors from {@code in} to {@code out}. */
    public static long linear(long rows, long in, long out) {
        return 2 * rows * in * out;
    }

    /** One encoder layer over {@code tokens} tokens attending to each other. */
    public static long encoderLayer(ModelConfig c, int tokens) {
        long d = c.dModel();
        return 4 * linear(tokens, d, d) + 2 * 2L * tokens * tokens * d + linear(tokens, d, c.ffnDim())
                + linear(tokens, c.ffnDim(), d);
    }

    /**
     * One decoder layer for one new token that attends to {@code keys} cached positions (itself
     * included) and {@code encoderTokens} encoder outputs.
     */
    public static long decoderLayerStep(ModelConfig c, int keys, int encoderTokens) {
        long d = c.dModel();
        return 6 * linear(1, d, d) + 2 * 2L * keys * d + 2 * 2L * encoderTokens * d + linear(1, d, c.ffnDim())
                + linear(1, c.ffnDim(), d);
    }

    /** The cosine similarity of a gate over {@code tokens} vectors. */
    public static long gate(ModelConfig c, int tokens) {
        return 6L * tokens * c.dModel();
    }

    /** Final LayerNorm and the tied projection for {@code rows} positions. */
    public static long lmHead(ModelConfig c, int rows) {
        return linear(rows, c.dModel(), c.vocabSize());
    }

    /** The ResNet backbone and {@code image_proj} for one image. */
    public static long backbone(ModelConfig c) {
        var r = c.resnet();
        int s = (c.imageSize() + 1) / 2;
        long f = conv(3, r.stemChannels(), 7, s);
        s = (s + 1) / 2;
        int in = r.stemChannels();
        for (int st = 0; st < 3; st++) {
            for (int b = 0; b < r.blocks(st); b++) {
                int sIn = s;
                if (b == 0 && st > 0) {
                    s = (s + 1) / 2;
                }
                f += conv(in, r.width(st), 1, sIn) + conv(r.width(st), r.width(st), 3, s)
                        + conv(r.width(st), r.outChannels(st), 1, s);
                if (b == 0) {
                    f += conv(in, r.outChannels(st), 1, s);
                }
                in = r.outChannels(st);
            }
        }
        return f + linear((long) c.imageTokens(), r.outputChannels(), c.dModel());
    }

    private static long conv(int in, int out, int k, int outSide) {
        return 2L * in * out * k * k * outSide * outSide;
    }
}
