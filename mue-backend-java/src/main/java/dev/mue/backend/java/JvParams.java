package dev.mue.backend.java;

import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.model.ResolvedWeights.ConvBn;
import dev.mue.api.model.ResolvedWeights.Layer;
import dev.mue.api.model.ResolvedWeights.Linear;
import dev.mue.api.model.ResolvedWeights.Norm;
import dev.mue.backend.java.kernels.JvKernels;
import dev.mue.backend.java.kernels.JvParallel;
import dev.mue.backend.java.kernels.JvWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The plan's resolved weights ({@link ResolvedWeights}) as the Java backend runs them: every linear
 * layer and convolution packed once by the kernels ({@link JvKernels#packLinear}, {@link
 * JvKernels#packConv}), the self-attention's query, key and value projections fused into one
 * product and the cross-attention's key and value into another, and the tied LM head packed from
 * the token embedding, and each decoder layer's cross-attention key and value weights once more,
 * head by head, for attending through the encoder output ({@link CrossThroughMemory}). Norms,
 * embeddings and scales are the plan's arrays, by reference; nothing is read by key or folded
 * here.
 */
final class JvParams {
    /** A packed linear layer and its bias (null for none). */
    record Dense(JvWeights w, float[] b) {
        int out() {
            return w.out();
        }
    }

    /** A packed convolution with its folded BatchNorm. */
    record Conv(JvWeights w, int stride, int pad, float[] scale, float[] shift) {
        int out() {
            return w.out();
        }

        int kernel() {
            return w.kernel();
        }
    }

    /** One bottleneck block's convolutions; {@code down} is null without a projection shortcut. */
    record Bottleneck(Conv c1, Conv c2, Conv c3, Conv down) {
    }

    /**
     * A transformer layer's packed products: {@code selfQkv} gives {@code [q | k | v]} per row;
     * the cross-attention ones are null in the encoder.
     */
    record Packed(Dense selfQkv, Dense selfO, Dense crossQ, Dense crossKv, Dense crossO, Dense fc1, Dense fc2,
            CrossThroughMemory crossThroughMemory) {
    }

    /**
     * A decoder layer's cross-attention weights for attending through the encoder output {@code X}
     * without its keys and values (see {@code JvLayerOps}): per head {@code h}, {@code keys[h]} maps
     * the head's query {@code q_h} to {@code q_h Wk_h} ({@code [d]}, weights {@code Wk_h^T},
     * {@code [d, headDim]}), and {@code values[h]} with {@code valueBias[h]} maps {@code p X} to the
     * head's output {@code (p X) Wv_h^T + bv_h} (weights {@code Wv_h}, {@code [headDim, d]}).
     *
     * @param valueBias per head, or null when the value projection has no bias
     */
    record CrossThroughMemory(JvWeights[] keys, JvWeights[] values, float[][] valueBias) {
    }

    final ModelConfig config;
    final float[] embedTokens;
    /** Type embedding 0, added to text tokens. */
    final float[] textType;
    /** Type embedding 1, added to image tokens. */
    final float[] imageType;
    final Norm textEmbedLn;
    final Norm imageEmbedLn;
    final Dense imageProj;
    final Norm encoderOutLn;
    /** The layers' norms and per-head scales (their linear weights are used through {@link #encoderPacked}). */
    final Layer[] encoder;
    final Packed[] encoderPacked;
    final Norm decoderEmbedLn;
    final Norm decoderOutLn;
    final Layer[] decoder;
    final Packed[] decoderPacked;
    final Dense lmHead;
    final Conv stem;
    final Bottleneck[][] stages;

    /** Packs every weight, independent packings in parallel. */
    JvParams(ModelConfig c, ResolvedWeights w, JvKernels k, JvParallel parallel) {
        this.config = c;
        int d = c.dModel();
        embedTokens = w.embedTokens();
        textType = w.textType();
        imageType = w.imageType();
        textEmbedLn = w.textEmbedLn();
        imageEmbedLn = w.imageEmbedLn();
        encoderOutLn = w.encoderOutLn();
        encoder = w.encoder().toArray(new Layer[0]);
        decoderEmbedLn = w.decoderEmbedLn();
        decoderOutLn = w.decoderOutLn();
        decoder = w.decoder().toArray(new Layer[0]);

        List<Supplier<?>> jobs = new ArrayList<>();
        Object[] results = new Object[0];
        int iImageProj = add(jobs, () -> dense(k, w.imageProj()));
        int iHead = add(jobs, () -> new Dense(k.packLinear(embedTokens, c.vocabSize(), d), null));
        int iStem = add(jobs, () -> conv(k, w.stem()));
        int[] iEnc = new int[encoder.length];
        for (int l = 0; l < encoder.length; l++) {
            Layer layer = encoder[l];
            iEnc[l] = add(jobs, () -> packed(k, layer, c.heads()));
        }
        int[] iDec = new int[decoder.length];
        for (int l = 0; l < decoder.length; l++) {
            Layer layer = decoder[l];
            iDec[l] = add(jobs, () -> packed(k, layer, c.heads()));
        }
        List<List<ResolvedWeights.Bottleneck>> st = w.stages();
        int[][] iStages = new int[st.size()][];
        for (int s = 0; s < st.size(); s++) {
            iStages[s] = new int[st.get(s).size()];
            for (int b = 0; b < st.get(s).size(); b++) {
                ResolvedWeights.Bottleneck bn = st.get(s).get(b);
                iStages[s][b] = add(jobs, () -> new Bottleneck(conv(k, bn.c1()), conv(k, bn.c2()), conv(k, bn.c3()),
                        bn.down() == null ? null : conv(k, bn.down())));
            }
        }
        results = run(jobs, parallel);
        imageProj = (Dense) results[iImageProj];
        lmHead = (Dense) results[iHead];
        stem = (Conv) results[iStem];
        encoderPacked = new Packed[encoder.length];
        for (int l = 0; l < encoder.length; l++) {
            encoderPacked[l] = (Packed) results[iEnc[l]];
        }
        decoderPacked = new Packed[decoder.length];
        for (int l = 0; l < decoder.length; l++) {
            decoderPacked[l] = (Packed) results[iDec[l]];
        }
        stages = new Bottleneck[st.size()][];
        for (int s = 0; s < st.size(); s++) {
            stages[s] = new Bottleneck[iStages[s].length];
            for (int b = 0; b < iStages[s].length; b++) {
                stages[s][b] = (Bottleneck) results[iStages[s][b]];
            }
        }
    }

    private static int add(List<Supplier<?>> jobs, Supplier<?> job) {
        jobs.add(job);
        return jobs.size() - 1;
    }

    /** Runs the packings in parallel (each may itself run parallel loops). */
    private static Object[] run(List<Supplier<?>> jobs, JvParallel parallel) {
        Object[] out = new Object[jobs.size()];
        parallel.forEach(out.length, i -> out[i] = jobs.get(i).get());
        return out;
    }

    private static Dense dense(JvKernels k, Linear l) {
        return new Dense(k.packLinear(l.w(), l.out(), l.in()), l.b());
    }

    private static Conv conv(JvKernels k, ConvBn c) {
        return new Conv(k.packConv(c.w(), c.out(), c.in(), c.kernel(), c.stride(), c.pad()), c.stride(), c.pad(),
                c.scale(), c.shift());
    }

    private static Packed packed(JvKernels k, Layer l, int heads) {
        ResolvedWeights.Attention self = l.self();
        ResolvedWeights.Attention cross = l.cross();
        return new Packed(fused(k, self.q(), self.k(), self.v()), dense(k, self.o()),
                cross == null ? null : dense(k, cross.q()), cross == null ? null : fused(k, cross.k(), cross.v()),
                cross == null ? null : dense(k, cross.o()), dense(k, l.fc1()), dense(k, l.fc2()),
                cross == null ? null : crossThroughMemory(k, cross.k(), cross.v(), heads));
    }

    /** {@link CrossThroughMemory} from the cross-attention's key and value projections ({@code [d, d]} each). */
    private static CrossThroughMemory crossThroughMemory(JvKernels k, Linear key, Linear value, int heads) {
        int d = key.in();
        int hd = key.out() / heads;
        JvWeights[] keys = new JvWeights[heads];
        JvWeights[] values = new JvWeights[heads];
        float[][] valueBias = value.b() == null ? null : new float[heads][];
        for (int h = 0; h < heads; h++) {
            // Wk_h^T: output i, input c, is Wk[h * hd + c][i].
            float[] t = new float[d * hd];
            for (int c = 0; c < hd; c++) {
                for (int i = 0; i < d; i++) {
                    t[i * hd + c] = key.w()[(h * hd + c) * d + i];
                }
            }
            keys[h] = k.packLinear(t, d, hd);
            values[h] = k.packLinear(Arrays.copyOfRange(value.w(), h * hd * d, (h + 1) * hd * d), hd, d);
            if (valueBias != null) {
                valueBias[h] = Arrays.copyOfRange(value.b(), h * hd, (h + 1) * hd);
            }
        }
        return new CrossThroughMemory(keys, values, valueBias);
    }

    /** Linear layers over the same input as one: their outputs side by side, in the order given. */
    private static Dense fused(JvKernels k, Linear... parts) {
        int in = parts[0].in();
        int out = 0;
        boolean anyBias = false;
        for (Linear p : parts) {
            if (p.in() != in) {
                throw new IllegalArgumentException("fused projections need one input width, got " + p.in() + " and "
                        + in);
            }
            out += p.out();
            anyBias |= p.b() != null;
        }
        float[] w = new float[out * in];
        float[] b = anyBias ? new float[out] : null;
        int o = 0;
        for (Linear p : parts) {
            System.arraycopy(p.w(), 0, w, o * in, p.out() * in);
            if (p.b() != null) {
                System.arraycopy(p.b(), 0, b, o, p.out());
            }
            o += p.out();
        }
        return new Dense(k.packLinear(w, out, in), b);
    }
}
