package dev.mue.train.trainer;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.text.Vocabulary;
import dev.mue.backend.torch.forward.PtOps;
import dev.mue.backend.torch.forward.PtParams;
import java.util.Arrays;
import java.util.List;

/**
 * MuE's layer-wise task loss over a batch: L = Σ_{i=1..N_D} CE_i, where CE_i is the
 * (label-smoothed, constrained) cross-entropy of softmax(E · LN_dec(h_i)) against the targets, h_i
 * the output of decoder layer i, LN_dec the shared final decoder LayerNorm and E the tied token
 * embedding. The sum over layers is unweighted; each CE_i is the mean over the batch's counted
 * target positions. Label smoothing follows fairseq/OFA: with epsilon e and k allowed tokens,
 * loss = (1 - e - e/(k-1)) · nll + e/(k-1) · Σ_allowed(-log p).
 *
 * <p>The encoder is the decomposed one at full depth with no gates, as the PyTorch backend runs
 * it: the image stream and the text stream each through every shared encoder layer on their own,
 * then {@code encoder.layer_norm([image ; text])}. The decoder runs teacher-forced over the whole
 * input with a causal mask, exactly as the backend's scorer does.
 */
// DJL and backend types are part of this low-level API on purpose; dev.mue.train requires them
// without "transitive" so that mue-cli can keep the torch backend at runtime scope.
@SuppressWarnings("exports")
public final class LayerWiseLoss {
    /** Added to the logits of tokens outside the allowed set (finite, so masked terms stay 0, not NaN). */
    static final float MASKED = -1e9f;

    private final TrainableModel model;
    private final PtParams p;
    private final PtOps ops;
    private final ModelConfig c;

    private final boolean finalLayerOnly;

    /** The layer-wise loss of {@code model}'s current parameters. */
    public LayerWiseLoss(TrainableModel model) {
        this(model, false);
    }

    /**
     * The loss of {@code model}'s current parameters: the layer-wise sum, or with
     * {@code finalLayerOnly} the last layer's term alone (the ordinary loss, for the ablation
     * baseline; every layer's term is still reported in {@link Output#perLayer()}).
     */
    public LayerWiseLoss(TrainableModel model, boolean finalLayerOnly) {
        this.finalLayerOnly = finalLayerOnly;
        this.model = model;
        this.p = model.params();
        this.ops = model.ops();
        this.c = model.config();
    }

    /**
     * The loss of one batch.
     *
     * @param total    the scalar loss (summed over layers, or the last layer's), differentiable
     * @param perLayer {@code [N_D]} the per-layer terms
     */
    public record Output(NDArray total, NDArray perLayer) {
    }

    /** Computes the loss of {@code batch} with the encoder at full depth; every tensor lands in {@code m}. */
    public Output compute(NDManager m, List<TrainExample> batch) {
        return compute(m, batch, null);
    }

    /**
     * Computes the loss of {@code batch}, example {@code b}'s image and text streams stopping after
     * layers {@code depths[b][0]} and {@code depths[b][1]} (1-based; null: full depth), their states
     * then going through the final encoder LayerNorm as at inference; every tensor lands in {@code m}.
     */
    public Output compute(NDManager m, List<TrainExample> batch, int[][] depths) {
        NDArray[] hidden = decoderLayers(m, batch, depths);
        int n = batch.size();
        int width = (int) hidden[0].getShape().get(1);
        int vocab = c.vocabSize();
        float[] onehot = new float[n * width * vocab];
        float[] allowed = new float[n * width * vocab];
        float[] nllCoef = new float[n * width];
        float[] smoothCoef = new float[n * width];
        int counted = 0;
        for (TrainExample e : batch) {
            counted += e.targets().length - e.firstCounted();
        }
        for (int b = 0; b < n; b++) {
            TrainExample e = batch.get(b);
            for (int t = 0; t < width; t++) {
                int base = (b * width + t) * vocab;
                boolean counts = t >= e.firstCounted() && t < e.targets().length;
                int[] set = counts && e.allowed() != null ? e.allowed()[t - e.firstCounted()] : null;
                if (set == null) {
                    Arrays.fill(allowed, base, base + vocab, 1f);
                } else {
                    for (int tok : set) {
                        allowed[base + tok] = 1f;
                    }
                }
                if (counts) {
                    onehot[base + e.targets()[t]] = 1f;
                    int k = set == null ? vocab : set.length;
                    double eps = e.labelSmoothing();
                    double epsI = k > 1 ? eps / (k - 1) : 0;
                    nllCoef[b * width + t] = (float) ((1 - eps - epsI) / counted);
                    smoothCoef[b * width + t] = (float) (epsI / counted);
                }
            }
        }
        Shape full = new Shape(n, width, vocab);
        NDArray oneHot = m.create(onehot, full);
        NDArray allowedF = m.create(allowed, full);
        NDArray mask = allowedF.sub(1f).mul(-MASKED);
        NDArray nllW = m.create(nllCoef, new Shape(n, width));
        NDArray smoothW = m.create(smoothCoef, new Shape(n, width));
        NDList terms = new NDList();
        for (NDArray h : hidden) {
            NDArray logp = logits(h).add(mask).logSoftmax(-1);
            NDArray nll = logp.mul(oneHot).sum(new int[] {-1}).neg();
            NDArray smooth = logp.mul(allowedF).sum(new int[] {-1}).neg();
            terms.add(nll.mul(nllW).add(smooth.mul(smoothW)).sum());
        }
        NDArray perLayer = NDArrays.stack(terms);
        return new Output(finalLayerOnly ? terms.get(terms.size() - 1) : perLayer.sum(), perLayer);
    }

    /** Final decoder LayerNorm and the tied projection. */
    NDArray logits(NDArray hidden) {
        return PtOps.linear(ops.layerNorm(hidden, p.decoderOutLn), p.embedTokens);
    }

    /** The output of every decoder layer {@code [B, W, d]}, W the longest decoder input. */
    NDArray[] decoderLayers(NDManager m, List<TrainExample> batch) {
        return decoderLayers(m, batch, null);
    }

    NDArray[] decoderLayers(NDManager m, List<TrainExample> batch, int[][] depths) {
        int n = batch.size();
        int size = c.imageSize();
        int pix = 3 * size * size;
        int maxText = 0;
        int width = 0;
        for (TrainExample e : batch) {
            maxText = Math.max(maxText, e.encoderTokens().length);
            width = Math.max(width, e.decoderInput().length);
        }
        if (maxText > model.shapes().maxTextTokens() || width > model.shapes().maxDecoderTokens()) {
            throw new IllegalArgumentException("batch needs " + maxText + " text and " + width
                    + " decoder tokens, over the plan shapes " + model.shapes());
        }
        float[] pixels = new float[n * pix];
        long[] ids = new long[n * maxText];
        long[] dec = new long[n * width];
        Arrays.fill(ids, Vocabulary.PAD);
        Arrays.fill(dec, Vocabulary.PAD);
        int[] txtLen = new int[n];
        int[] decLen = new int[n];
        int imgTokens = c.imageTokens();
        int[] encLen = new int[n];
        for (int b = 0; b < n; b++) {
            TrainExample e = batch.get(b);
            System.arraycopy(e.image(), 0, pixels, b * pix, pix);
            for (int t = 0; t < e.encoderTokens().length; t++) {
                ids[b * maxText + t] = e.encoderTokens()[t];
            }
            for (int t = 0; t < e.decoderInput().length; t++) {
                dec[b * width + t] = e.decoderInput()[t];
            }
            txtLen[b] = e.encoderTokens().length;
            decLen[b] = e.decoderInput().length;
            encLen[b] = imgTokens + txtLen[b];
        }
        int d = c.dModel();
        // image stream
        NDArray f = model.resnet(m.create(pixels, new Shape(n, 3, size, size)));
        Shape fs = f.getShape();
        NDArray img = f.reshape(fs.get(0), fs.get(1), fs.get(2) * fs.get(3)).transpose(0, 2, 1);
        img = ops.layerNorm(PtOps.linear(img, p.imageProj).add(p.imageType), p.imageEmbedLn);
        // text stream
        NDArray txt = p.embedTokens.get(m, new NDIndex("{}", m.create(ids))).reshape(n, maxText, d);
        txt = ops.layerNorm(txt.add(p.textType), p.textEmbedLn);
        NDArray txtMask = PtOps.paddingMask(m, txtLen, maxText);
        List<NDArray> imgStates = new ArrayList<>();
        List<NDArray> txtStates = new ArrayList<>();
        for (int l = 0; l < c.encoderLayers(); l++) {
            NDArray ib = model.bias(m, TrainableModel.Site.ENCODER_IMAGE, l, imgTokens, imgTokens).expandDims(0);
            img = ops.encoderLayer(p.encoder[l], img, ib, null);
            NDArray tb = model.bias(m, TrainableModel.Site.ENCODER_TEXT, l, maxText, maxText).expandDims(0);
            txt = ops.encoderLayer(p.encoder[l], txt, tb, txtMask);
            imgStates.add(img);
            txtStates.add(txt);
        }
        if (depths != null) {
            img = stopAt(imgStates, depths, 0);
            txt = stopAt(txtStates, depths, 1);
        }
        NDArray enc = ops.layerNorm(img.concat(txt, 1), p.encoderOutLn);
        int encWidth = imgTokens + maxText;
        NDArray encMask = PtOps.paddingMask(m, encLen, encWidth);
        // decoder, teacher-forced
        NDArray x = ops.layerNorm(p.embedTokens.get(m, new NDIndex("{}", m.create(dec))).reshape(n, width, d),
                p.decoderEmbedLn);
        NDArray causal = PtOps.causalMask(m, decLen, width);
        NDArray crossBias = p.crossBias.get(m, new NDIndex(":, :{}, :{}", width, encWidth)).expandDims(0);
        NDArray[] out = new NDArray[c.decoderLayers()];
        for (int l = 0; l < out.length; l++) {
            PtParams.Layer layer = p.decoder[l];
            NDArray bias = model.bias(m, TrainableModel.Site.DECODER_SELF, l, width, width).expandDims(0);
            NDArray[] qkv = ops.selfQkv(layer, x);
            NDArray a = ops.attention(qkv[0], qkv[1], qkv[2], bias, causal, layer.self().cAttn());
            NDArray y = ops.attentionOutput(layer.self(), layer.selfPostLn(), a, x);
            NDArray ck = PtOps.linear(enc, layer.cross().k());
            NDArray cv = PtOps.linear(enc, layer.cross().v());
            x = ops.crossAndFfn(layer, y, ck, cv, crossBias, encMask);
            out[l] = x;
        }
        return out;
    }

    /** Per example, the stream's state after its own last layer ({@code depths[b][stream]}, 1-based): {@code [n, T, d]}. */
    private static NDArray stopAt(List<NDArray> states, int[][] depths, int stream) {
        NDList rows = new NDList();
        for (int b = 0; b < depths.length; b++) {
            rows.add(states.get(depths[b][stream] - 1).get(b));
        }
        return NDArrays.stack(rows);
    }
}
