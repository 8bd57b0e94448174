package dev.mue.backend.java;

import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.plan.BiasBlock;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PositionBiases;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.RequestChecks;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.backend.java.kernels.JvKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ForkJoinPool;

/**
 * A plan prepared on the Java backend. Exit gates are evaluated inline after each layer; a batch is
 * packed without padding and compacted as its examples exit, so it computes exactly what single
 * calls compute.
 */
final class JvExecutable implements Executable {
    private final Plan plan;
    private final ModelConfig c;
    private final ExitPolicy policy;
    private final JvParams p;
    private final JvOps ops;
    private final JvKernels k;
    private final JvResNet resnet;
    private final int d;
    /** Dense per-layer biases {@code [H, rows, cols]}: absolute plus relative, folded by the planner. */
    private final float[][] textBias;
    private final float[][] imageBias;
    private final float[][] jointBias;
    final float[][] decoderSelfBias;
    final float[] crossBias;
    private final BiasBlock textBlock;
    private final BiasBlock imageBlock;
    private final BiasBlock jointBlock;
    final BiasBlock decoderSelfBlock;
    final BiasBlock crossBlock;
    private volatile boolean closed;

    JvExecutable(Plan plan, JvKernels kernels, ForkJoinPool pool) {
        this.plan = plan;
        this.c = plan.config();
        this.policy = plan.policy();
        this.p = new JvParams(c, plan.weights());
        this.k = kernels;
        this.ops = new JvOps(kernels, pool, p);
        this.resnet = new JvResNet(p, kernels);
        this.d = c.dModel();
        PositionBiases b = plan.biases();
        textBlock = b.encoderText();
        imageBlock = b.encoderImage();
        jointBlock = b.encoderJoint();
        decoderSelfBlock = b.decoderSelf();
        crossBlock = b.decoderCross();
        textBias = dense(textBlock, c.encoderLayers());
        imageBias = dense(imageBlock, c.encoderLayers());
        jointBias = dense(jointBlock, c.encoderLayers());
        decoderSelfBias = dense(decoderSelfBlock, c.decoderLayers());
        crossBias = crossBlock.abs();
    }

    private static float[][] dense(BiasBlock b, int layers) {
        return b == null ? null : b.denseLayers(layers);
    }

    @Override
    public Plan plan() {
        return plan;
    }

    JvParams params() {
        return p;
    }

    JvOps ops() {
        return ops;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("executable is closed");
        }
    }

    // ---------------------------------------------------------------- encoder

    @Override
    public EncodedBatch encode(List<EncoderInput> batch) {
        checkOpen();
        RequestChecks.encoderBatch(plan, batch);
        int n = batch.size();
        int imgTokens = c.imageTokens();
        float[][] img = new float[n][];
        float[][] txt = new float[n][];
        int[] txtLen = new int[n];
        int[] imgLen = new int[n];
        for (int i = 0; i < n; i++) {
            img[i] = embedImage(batch.get(i).image());
            imgLen[i] = imgTokens;
            txt[i] = embedText(batch.get(i).tokens());
            txtLen[i] = batch.get(i).tokens().length;
        }
        float[][] output = new float[n][];
        int[] outTokens = new int[n];
        List<List<EncoderExit>> exits = new ArrayList<>();
        if (policy.encoderMode() == EncoderMode.DECOMPOSED) {
            StreamRun ri = runStream(Stream.IMAGE, img, imgLen, imageBias, imageBlock, policy.imageThreshold());
            StreamRun rt = runStream(Stream.TEXT, txt, txtLen, textBias, textBlock, policy.textThreshold());
            for (int i = 0; i < n; i++) {
                float[] cat = new float[(imgLen[i] + txtLen[i]) * d];
                System.arraycopy(ri.output[i], 0, cat, 0, imgLen[i] * d);
                System.arraycopy(rt.output[i], 0, cat, imgLen[i] * d, txtLen[i] * d);
                output[i] = ops.layerNorm(p.encoderOutLn, cat, imgLen[i] + txtLen[i], d);
                outTokens[i] = imgLen[i] + txtLen[i];
                exits.add(List.of(new EncoderExit(Stream.IMAGE, ri.exitLayer[i], imgLen[i], ri.gates.get(i)),
                        new EncoderExit(Stream.TEXT, rt.exitLayer[i], txtLen[i], rt.gates.get(i))));
            }
        } else {
            float[][] joint = new float[n][];
            int[] len = new int[n];
            for (int i = 0; i < n; i++) {
                len[i] = imgLen[i] + txtLen[i];
                joint[i] = new float[len[i] * d];
                System.arraycopy(img[i], 0, joint[i], 0, imgLen[i] * d);
                System.arraycopy(txt[i], 0, joint[i], imgLen[i] * d, txtLen[i] * d);
            }
            StreamRun rj = runStream(Stream.JOINT, joint, len, jointBias, jointBlock, policy.jointThreshold());
            for (int i = 0; i < n; i++) {
                output[i] = ops.layerNorm(p.encoderOutLn, rj.output[i], len[i], d);
                outTokens[i] = len[i];
                exits.add(List.of(new EncoderExit(Stream.JOINT, rj.exitLayer[i], len[i], rj.gates.get(i))));
            }
        }
        return new JvEncodedBatch(output, outTokens, txtLen, exits, c.decoderLayers());
    }

    /** ResNet, {@code image_proj}, type embedding 1, {@code patch_layernorm_embedding}: {@code [I, d]}. */
    float[] embedImage(float[] image) {
        JvResNet.Map f = resnet.forward(image, c.imageSize());
        int tokens = f.h() * f.w();
        int ch = f.channels();
        float[] seq = new float[tokens * ch];
        for (int cc = 0; cc < ch; cc++) {
            for (int t = 0; t < tokens; t++) {
                seq[t * ch + cc] = f.data()[cc * tokens + t];
            }
        }
        float[] x = ops.linear(p.imageProj, seq, tokens);
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < d; j++) {
                x[t * d + j] += p.imageType[j];
            }
        }
        k.layerNorm(x, 0, tokens, d, p.imageEmbedLn.w(), p.imageEmbedLn.b(), ops.eps, x, 0);
        return x;
    }

    /** Token embedding plus type embedding 0, then {@code layernorm_embedding}: {@code [T, d]}. */
    float[] embedText(int[] tokens) {
        float[] x = new float[tokens.length * d];
        for (int t = 0; t < tokens.length; t++) {
            for (int j = 0; j < d; j++) {
                x[t * d + j] = p.embedTokens[tokens[t] * d + j] + p.textType[j];
            }
        }
        k.layerNorm(x, 0, tokens.length, d, p.textEmbedLn.w(), p.textEmbedLn.b(), ops.eps, x, 0);
        return x;
    }

    /** Per example: the stream's output, the layer it exited after, and the gates it passed. */
    private record StreamRun(float[][] output, int[] exitLayer, List<List<GateRecord>> gates) {
    }

    /**
     * Runs one encoder stream over every example with per-example exits, compacting the packed
     * batch after each layer so that exited examples cost nothing further.
     */
    private StreamRun runStream(Stream stream, float[][] emb, int[] lens, float[][] bias, BiasBlock block,
            double threshold) {
        int n = emb.length;
        int layers = c.encoderLayers();
        float[][] fin = new float[n][];
        int[] exitLayer = new int[n];
        List<List<GateRecord>> gates = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            gates.add(new ArrayList<>());
        }
        int[] active = new int[n];
        for (int i = 0; i < n; i++) {
            active[i] = i;
        }
        float[] cur = pack(emb, active, lens);
        for (int l = 0; l < layers; l++) {
            int[] off = new int[active.length];
            int[] len = new int[active.length];
            int rows = 0;
            for (int a = 0; a < active.length; a++) {
                off[a] = rows;
                len[a] = lens[active[a]];
                rows += len[a];
            }
            float[] out = encoderLayer(p.encoder[l], cur, rows, off, len, bias[l], block.rows(), block.cols());
            int kept = 0;
            int[] keep = new int[active.length];
            for (int a = 0; a < active.length; a++) {
                int e = active[a];
                boolean exit = l == layers - 1;
                if (!exit) {
                    double sim = k.cosine(out, off[a] * d, cur, off[a] * d, len[a] * d);
                    exit = l + 1 >= policy.minExitLayer() && sim > threshold;
                    gates.get(e).add(new GateRecord(stream, l + 1, sim, threshold, exit));
                }
                if (exit) {
                    fin[e] = Arrays.copyOfRange(out, off[a] * d, (off[a] + len[a]) * d);
                    exitLayer[e] = l + 1;
                } else {
                    keep[kept++] = a;
                }
            }
            if (kept == 0) {
                break;
            }
            if (kept < active.length) {
                int[] next = new int[kept];
                int rowsKept = 0;
                for (int i = 0; i < kept; i++) {
                    rowsKept += len[keep[i]];
                }
                float[] packed = new float[rowsKept * d];
                int o = 0;
                for (int i = 0; i < kept; i++) {
                    int a = keep[i];
                    System.arraycopy(out, off[a] * d, packed, o, len[a] * d);
                    o += len[a] * d;
                    next[i] = active[a];
                }
                active = next;
                cur = packed;
            } else {
                cur = out;
            }
        }
        return new StreamRun(fin, exitLayer, gates);
    }

    private float[] pack(float[][] emb, int[] active, int[] lens) {
        int rows = 0;
        for (int e : active) {
            rows += lens[e];
        }
        float[] x = new float[rows * d];
        int o = 0;
        for (int e : active) {
            System.arraycopy(emb[e], 0, x, o, lens[e] * d);
            o += lens[e] * d;
        }
        return x;
    }

    /** One pre-LN encoder layer over packed segments that attend only within themselves. */
    private float[] encoderLayer(ResolvedWeights.Layer layer, float[] x, int rows, int[] off, int[] len, float[] bias,
            int biasRows, int biasCols) {
        float[] h = ops.layerNorm(layer.selfLn(), x, rows, d);
        float[] q = ops.linear(layer.self().q(), h, rows);
        ops.scaleQueries(q);
        float[] kk = ops.linear(layer.self().k(), h, rows);
        float[] v = ops.linear(layer.self().v(), h, rows);
        float[] attn = ops.segmentSelfAttention(q, kk, v, off, len, bias, biasRows, biasCols, false);
        float[] out = x.clone();
        ops.attentionOutput(layer.self(), layer.selfPostLn(), attn, out, rows);
        ops.ffnBlock(layer, out, rows);
        return out;
    }

    // ---------------------------------------------------------------- decoder

    @Override
    public DecoderStepper decoder(EncodedBatch encoded, int[] exampleOfRow) {
        checkOpen();
        JvEncodedBatch enc = own(encoded);
        RequestChecks.rows(enc.size(), exampleOfRow);
        return new JvDecoderStepper(this, enc, exampleOfRow);
    }

    private static JvEncodedBatch own(EncodedBatch encoded) {
        if (!(encoded instanceof JvEncodedBatch j)) {
            throw new IllegalArgumentException("encoded batch comes from another backend: " + encoded.getClass().getName());
        }
        return j;
    }

    /** Cross-attention of packed query rows against one example's encoder output. */
    void crossAttention(JvEncodedBatch enc, int layer, ResolvedWeights.Attention a, float[] q, int qRow, int nq, int firstPos,
            int example, float[] out) {
        float[] ck = enc.crossK(example, layer, ops, a);
        float[] cv = enc.crossV(example, layer);
        int nk = enc.tokens[example];
        int cols = crossBlock.cols();
        int rows = crossBlock.rows();
        for (int h = 0; h < ops.heads; h++) {
            int qo = qRow * d + h * ops.headDim;
            k.attention(q, qo, d, ck, h * ops.headDim, d, cv, h * ops.headDim, d, nq, nk, ops.headDim, crossBias,
                    (h * rows + firstPos) * cols, cols, false, 0, out, qo, d, new float[nk]);
        }
    }

    /** Whether the decoder gate after {@code layer} (0-based) may fire. */
    boolean decoderGateEnabled(int layer) {
        return layer < c.decoderLayers() - 1 && layer + 1 >= policy.minExitLayer();
    }

    /** Final decoder LayerNorm and the tied projection for {@code rows} hidden states. */
    float[] logits(float[] x, int rows) {
        float[] h = ops.layerNorm(p.decoderOutLn, x, rows, d);
        return ops.linear(p.lmHead, h, rows);
    }

    @Override
    public ScoringOutput score(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences, int[] firstScored,
            double threshold) {
        checkOpen();
        return new JvScorer(this, own(encoded)).score(exampleOfRow, sequences, firstScored, threshold);
    }

    /** Decoder input embedding: token embedding, then {@code decoder.layernorm_embedding}. */
    float[] embedDecoder(int[] tokens) {
        float[] x = new float[tokens.length * d];
        RequestChecks.tokens(plan, tokens, "decoder ");
        for (int t = 0; t < tokens.length; t++) {
            System.arraycopy(p.embedTokens, tokens[t] * d, x, t * d, d);
        }
        k.layerNorm(x, 0, tokens.length, d, p.decoderEmbedLn.w(), p.decoderEmbedLn.b(), ops.eps, x, 0);
        return x;
    }

    @Override
    public void close() {
        closed = true;
    }
}
