package dev.mue.api.plan;

import dev.mue.api.exit.GateMeasure;
import dev.mue.api.model.ModelConfig;
import java.util.Set;

/**
 * FLOP formulas of the model's parts (a multiply-add counts as two): the planner gives every plan
 * node one of these ({@link PlanNode#work()}), and traces evaluate the nodes a request executed.
 * Element-wise work (LayerNorms, GELU, softmax) is counted roughly; the matrix products dominate.
 */
public final class Costs {
    private Costs() {
    }

    /** A linear map of {@code rows} vectors from {@code in} to {@code out}. */
    public static long linear(long rows, long in, long out) {
        return 2 * rows * in * out;
    }

    /**
     * One encoder layer: per token the q/k/v/out projections and the FFN; per attended key the
     * scores and the weighted sum.
     */
    public static CostFormula encoderLayer(ModelConfig c) {
        long d = c.dModel();
        return new CostFormula(0, 4 * linear(1, d, d) + linear(1, d, c.ffnDim()) + linear(1, c.ffnDim(), d), 4 * d, 0);
    }

    /**
     * One decoder layer: per token the self-attention's four projections, the cross-attention's query
     * and output projections and the FFN; per attended key and per attended encoder position the
     * scores and weighted sums. The cross-attention keys and values of the encoder output are
     * computed once per example and layer and are not counted per token.
     */
    public static CostFormula decoderLayer(ModelConfig c) {
        long d = c.dModel();
        return new CostFormula(0, 6 * linear(1, d, d) + linear(1, d, c.ffnDim()) + linear(1, c.ffnDim(), d), 4 * d,
                4 * d);
    }

    /** What a skipped decoder layer runs for one propagated position: LayerNorm, key and value projections. */
    public static CostFormula kvPropagate(ModelConfig c) {
        long d = c.dModel();
        return CostFormula.perToken(2 * linear(1, d, d) + 8 * d);
    }

    /** An exit gate that measures {@code measures} per token of its group. */
    public static CostFormula gate(ModelConfig c, Set<GateMeasure> measures) {
        long d = c.dModel();
        long perToken = 0;
        if (measures.contains(GateMeasure.COSINE)) {
            perToken += 6 * d;
        }
        if (measures.contains(GateMeasure.TOP_PROBABILITY)) {
            perToken += 10 * d + linear(1, d, c.vocabSize()) + 3L * c.vocabSize();
        }
        return CostFormula.perToken(perToken);
    }

    /** Final LayerNorm and the tied projection, per position. */
    public static CostFormula lmHead(ModelConfig c) {
        return CostFormula.perToken(10L * c.dModel() + linear(1, c.dModel(), c.vocabSize()));
    }

    /** A token embedding (lookup, type embedding, LayerNorm), per token. */
    public static CostFormula tokenEmbedding(ModelConfig c) {
        return CostFormula.perToken(8L * c.dModel());
    }

    /** The encoder's final LayerNorm, per output token. */
    public static CostFormula encoderOutput(ModelConfig c) {
        return CostFormula.perToken(10L * c.dModel());
    }

    /**
     * The image embedding: per image the ResNet backbone and {@code image_proj}; per image token
     * the type embedding and {@code patch_layernorm_embedding}.
     */
    public static CostFormula imageEmbedding(ModelConfig c) {
        return new CostFormula(backbone(c), 8L * c.dModel(), 0, 0);
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
