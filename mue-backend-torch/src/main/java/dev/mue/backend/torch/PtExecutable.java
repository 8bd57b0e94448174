package dev.mue.backend.torch;

import dev.mue.backend.torch.forward.PtOps;
import dev.mue.backend.torch.forward.PtParams;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.RequestChecks;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.api.text.Vocabulary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A plan prepared on the PyTorch backend. The weights and folded biases are uploaded once into a
 * manager this executable owns (capped afterwards, so that nothing a request computes can land
 * there); every call works in a child manager closed when it returns. Exit gates are evaluated on
 * the host between layers: after each layer the layer's output comes back to the host, each active
 * example's cosine is computed in double over its real tokens (as the Java kernels compute it), and
 * the exited examples are dropped from the batch before the next layer (batch compaction).
 */
final class PtExecutable implements Executable {
    private final Plan plan;
    private final ModelConfig c;
    private final ExitPolicy policy;
    private final NDManager weights;
    final PtParams p;
    final PtOps ops;
    final int d;
    private volatile boolean closed;

    PtExecutable(Plan plan, NDManager root) {
        this.plan = plan;
        this.c = plan.config();
        this.policy = plan.policy();
        this.d = c.dModel();
        this.ops = new PtOps(c);
        this.weights = root.newSubManager();
        try {
            this.p = new PtParams(c, plan.weights(), plan.biases(), weights);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
        // Child managers may still be created; any tensor attached here by mistake now throws.
        weights.cap();
    }

    @Override
    public Plan plan() {
        return plan;
    }

    /** The manager that owns the weights; requests open children of it. */
    NDManager weights() {
        return weights;
    }

    void checkOpen() {
        if (closed || !weights.isOpen()) {
            throw new IllegalStateException("executable is closed");
        }
    }

    // ---------------------------------------------------------------- encoder

    @Override
    public EncodedBatch encode(List<EncoderInput> batch) {
        checkOpen();
        RequestChecks.encoderBatch(plan, batch);
        int n = batch.size();
        int size = c.imageSize();
        int expectedPixels = 3 * size * size;
        int maxText = 0;
        for (EncoderInput in : batch) {
            maxText = Math.max(maxText, in.tokens().length);
        }
        int imgTokens = c.imageTokens();
        int[] imgLen = new int[n];
        int[] txtLen = new int[n];
        float[] pixels = new float[n * expectedPixels];
        long[] ids = new long[n * maxText];
        Arrays.fill(ids, Vocabulary.PAD);
        for (int i = 0; i < n; i++) {
            System.arraycopy(batch.get(i).image(), 0, pixels, i * expectedPixels, expectedPixels);
            int[] toks = batch.get(i).tokens();
            for (int t = 0; t < toks.length; t++) {
                ids[i * maxText + t] = toks[t];
            }
            imgLen[i] = imgTokens;
            txtLen[i] = toks.length;
        }
        NDManager m = weights.newSubManager();
        try (NDManager tmp = m.newSubManager()) {
            NDArray img = embedImage(tmp.create(pixels, new Shape(n, 3, size, size)));
            NDArray txt = embedText(tmp, ids, n, maxText);
            int[] outTokens = new int[n];
            List<List<EncoderExit>> exits = new ArrayList<>();
            NDArray cat;
            if (policy.encoderMode() == EncoderMode.DECOMPOSED) {
                StreamRun ri = runStream(tmp, Stream.IMAGE, img, imgLen, p.imageBias, policy.imageThreshold());
                StreamRun rt = runStream(tmp, Stream.TEXT, txt, txtLen, p.textBias, policy.textThreshold());
                cat = ri.output.concat(rt.output, 1);
                for (int i = 0; i < n; i++) {
                    outTokens[i] = imgLen[i] + txtLen[i];
                    exits.add(List.of(new EncoderExit(Stream.IMAGE, ri.exitLayer[i], imgLen[i], ri.gates.get(i)),
                            new EncoderExit(Stream.TEXT, rt.exitLayer[i], txtLen[i], rt.gates.get(i))));
                }
            } else {
                int[] len = new int[n];
                for (int i = 0; i < n; i++) {
                    len[i] = imgLen[i] + txtLen[i];
                }
                StreamRun rj = runStream(tmp, Stream.JOINT, img.concat(txt, 1), len, p.jointBias,
                        policy.jointThreshold());
                cat = rj.output;
                for (int i = 0; i < n; i++) {
                    outTokens[i] = len[i];
                    exits.add(List.of(new EncoderExit(Stream.JOINT, rj.exitLayer[i], len[i], rj.gates.get(i))));
                }
            }
            NDArray output = ops.layerNorm(cat, p.encoderOutLn);
            output.attach(m);
            int width = imgTokens + maxText;
            NDArray mask = paddingMask(m, outTokens, width);
            return new PtEncodedBatch(this, m, output, mask, outTokens, exits);
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
    }

    /** ResNet, {@code image_proj}, type embedding 1, {@code patch_layernorm_embedding}: {@code [B, I, d]}. */
    NDArray embedImage(NDArray images) {
        NDArray f = PtOps.resnet(p, images);
        Shape s = f.getShape();
        NDArray seq = f.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
        return ops.layerNorm(PtOps.linear(seq, p.imageProj).add(p.imageType), p.imageEmbedLn);
    }

    /** Token embedding plus type embedding 0, then {@code layernorm_embedding}: {@code [B, T, d]}. */
    NDArray embedText(NDManager tmp, long[] ids, int n, int len) {
        NDArray e = p.embedTokens.get(tmp, new NDIndex("{}", tmp.create(ids))).reshape(n, len, d);
        return ops.layerNorm(e.add(p.textType), p.textEmbedLn);
    }

    /**
     * An additive key mask {@code [B, 1, 1, width]}: 0 for the first {@code lens[b]} positions of
     * row {@code b}, -inf after; null when no row is padded.
     */
    static NDArray paddingMask(NDManager m, int[] lens, int width) {
        boolean padded = false;
        for (int l : lens) {
            padded |= l < width;
        }
        if (!padded) {
            return null;
        }
        float[] mask = new float[lens.length * width];
        for (int b = 0; b < lens.length; b++) {
            Arrays.fill(mask, b * width + lens[b], (b + 1) * width, Float.NEGATIVE_INFINITY);
        }
        return m.create(mask, new Shape(lens.length, 1, 1, width));
    }

    /** Per example: the stream's output {@code [B, L, d]}, the layer it exited after, its gates. */
    private record StreamRun(NDArray output, int[] exitLayer, List<List<GateRecord>> gates) {
    }

    /**
     * Runs one encoder stream over a padded batch {@code x} {@code [B, L, d]} with per-example
     * exits decided on the host, dropping exited examples from the batch after each layer.
     */
    private StreamRun runStream(NDManager tmp, Stream stream, NDArray x, int[] lens, NDArray[] bias,
            double threshold) {
        int n = lens.length;
        int layers = c.encoderLayers();
        long width = x.getShape().get(1);
        int plane = (int) width * d;
        NDArray[] fin = new NDArray[n];
        int[] exitLayer = new int[n];
        List<List<GateRecord>> gates = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            gates.add(new ArrayList<>());
        }
        int[] active = new int[n];
        for (int i = 0; i < n; i++) {
            active[i] = i;
        }
        float[] curHost = x.toFloatArray();
        NDArray mask = paddingMask(tmp, lens, (int) width);
        NDArray cur = x;
        for (int l = 0; l < layers; l++) {
            NDArray b = bias[l].get(tmp, new NDIndex(":, :{}, :{}", width, width)).expandDims(0);
            NDArray out = ops.encoderLayer(p.encoder[l], cur, b, mask);
            float[] outHost = out.toFloatArray();
            int[] keep = new int[active.length];
            int kept = 0;
            for (int a = 0; a < active.length; a++) {
                int e = active[a];
                boolean exit = l == layers - 1;
                if (!exit) {
                    double sim = PtHost.cosine(outHost, a * plane, curHost, a * plane, lens[e] * d);
                    exit = l + 1 >= policy.minExitLayer() && sim > threshold;
                    gates.get(e).add(new GateRecord(stream, l + 1, sim, threshold, exit));
                }
                if (exit) {
                    fin[e] = out.get(a);
                    exitLayer[e] = l + 1;
                } else {
                    keep[kept++] = a;
                }
            }
            if (kept == 0) {
                break;
            }
            if (kept < active.length) {
                keep = Arrays.copyOf(keep, kept);
                cur = PtHost.rows(tmp, out, keep);
                curHost = PtHost.rows(outHost, plane, keep);
                int[] next = new int[kept];
                int[] nextLens = new int[kept];
                for (int i = 0; i < kept; i++) {
                    next[i] = active[keep[i]];
                    nextLens[i] = lens[next[i]];
                }
                active = next;
                mask = paddingMask(tmp, nextLens, (int) width);
            } else {
                cur = out;
                curHost = outHost;
            }
        }
        return new StreamRun(NDArrays.stack(new NDList(fin)), exitLayer, gates);
    }

    // ---------------------------------------------------------------- decoder

    @Override
    public DecoderStepper decoder(EncodedBatch encoded, int[] exampleOfRow) {
        checkOpen();
        PtEncodedBatch enc = own(encoded);
        RequestChecks.rows(enc.size(), exampleOfRow);
        return new PtDecoderStepper(this, enc, exampleOfRow);
    }

    private PtEncodedBatch own(EncodedBatch encoded) {
        if (!(encoded instanceof PtEncodedBatch b) || b.exec != this) {
            throw new IllegalArgumentException("encoded batch comes from another backend or executable: "
                    + (encoded == null ? "null" : encoded.getClass().getName()));
        }
        return b;
    }

    /** Whether the decoder gate after {@code layer} (0-based) may fire. */
    boolean decoderGateEnabled(int layer) {
        return layer < c.decoderLayers() - 1 && layer + 1 >= policy.minExitLayer();
    }

    /** Decoder input embedding: token embedding, then {@code decoder.layernorm_embedding}. */
    NDArray embedDecoder(NDManager tmp, long[] ids) {
        for (long t : ids) {
            if (t < 0 || t >= c.vocabSize()) {
                throw new InvalidInputException("decoder token id " + t + " outside the vocabulary [0, "
                        + c.vocabSize() + ")");
            }
        }
        NDArray e = p.embedTokens.get(tmp, new NDIndex("{}", tmp.create(ids)));
        return ops.layerNorm(e, p.decoderEmbedLn);
    }

    /** Final decoder LayerNorm and the tied projection: {@code [..., d]} to {@code [..., V]}. */
    NDArray logits(NDArray hidden) {
        return PtOps.linear(ops.layerNorm(hidden, p.decoderOutLn), p.embedTokens);
    }

    @Override
    public ScoringOutput score(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences, int[] firstScored,
            double threshold) {
        checkOpen();
        return new PtScorer(this, own(encoded)).score(exampleOfRow, sequences, firstScored, threshold);
    }

    @Override
    public void close() {
        closed = true;
        weights.close();
    }
}
