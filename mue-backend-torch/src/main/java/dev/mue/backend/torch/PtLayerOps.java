package dev.mue.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mue.api.exit.GateMeasure;
import dev.mue.api.layer.LayerOps;
import dev.mue.api.layer.Workspace;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.Stream;
import dev.mue.api.text.Vocabulary;
import dev.mue.backend.torch.forward.PtOps;
import dev.mue.backend.torch.forward.PtParams;
import java.util.Arrays;
import java.util.List;

/**
 * The PyTorch backend's layer operations: what the runtime drives to execute a plan with libtorch.
 * The weights and folded biases are uploaded once into a manager this object owns (capped
 * afterwards, so that nothing a request computes can land there); every workspace is a child
 * manager. Segments are padded rows of one tensor with additive masks; gate measures are computed
 * on the host in double over each group's real tokens.
 */
final class PtLayerOps implements LayerOps<PtStates, PtMemory, PtCaches> {
    private final ModelConfig c;
    private final NDManager weights;
    private final PtParams p;
    private final PtOps ops;
    private final int d;
    private volatile boolean closed;

    PtLayerOps(Plan plan, NDManager root) {
        this.c = plan.config();
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

    /** The manager that owns the weights; every workspace is a child of it. */
    NDManager weights() {
        return weights;
    }

    @Override
    public Workspace workspace() {
        if (closed || !weights.isOpen()) {
            throw new IllegalStateException("executable is closed");
        }
        return new PtWorkspace(weights.newSubManager());
    }

    private static NDManager m(Workspace ws) {
        return PtWorkspace.of(ws);
    }

    // ------------------------------------------------------------------ encoder stage

    @Override
    public PtStates embedImages(Workspace ws, List<float[]> images) {
        int n = images.size();
        int size = c.imageSize();
        int pixels = 3 * size * size;
        float[] all = new float[n * pixels];
        for (int i = 0; i < n; i++) {
            System.arraycopy(images.get(i), 0, all, i * pixels, pixels);
        }
        NDArray f = PtOps.resnet(p, m(ws).create(all, new Shape(n, 3, size, size)));
        Shape s = f.getShape();
        NDArray seq = f.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
        NDArray x = ops.layerNorm(PtOps.linear(seq, p.imageProj).add(p.imageType), p.imageEmbedLn);
        int[] lengths = new int[n];
        Arrays.fill(lengths, (int) (s.get(2) * s.get(3)));
        return new PtStates(x, lengths);
    }

    @Override
    public PtStates embedTexts(Workspace ws, List<int[]> texts) {
        int[] lengths = texts.stream().mapToInt(t -> t.length).toArray();
        NDArray e = embed(m(ws), texts.toArray(new int[0][]), lengths);
        return new PtStates(ops.layerNorm(e.add(p.textType), p.textEmbedLn), lengths);
    }

    /** Token embeddings {@code [B, W, d]} of padded sequences. */
    private NDArray embed(NDManager m, int[][] seqs, int[] lengths) {
        int width = Arrays.stream(lengths).max().orElse(1);
        long[] ids = new long[seqs.length * width];
        Arrays.fill(ids, Vocabulary.PAD);
        for (int i = 0; i < seqs.length; i++) {
            for (int t = 0; t < seqs[i].length; t++) {
                ids[i * width + t] = seqs[i][t];
            }
        }
        return p.embedTokens.get(m, new NDIndex("{}", m.create(ids))).reshape(seqs.length, width, d);
    }

    @Override
    public PtStates concat(Workspace ws, PtStates a, PtStates b) {
        int n = a.segments();
        int[] lengths = new int[n];
        boolean aFull = true;
        for (int i = 0; i < n; i++) {
            lengths[i] = a.lengths[i] + b.lengths[i];
            aFull &= a.lengths[i] == a.width();
        }
        if (aFull) {
            // [a ; b] along the positions: b's padding stays at the end.
            return new PtStates(a.x.concat(b.x, 1), lengths);
        }
        int width = Arrays.stream(lengths).max().orElse(1);
        NDList rows = new NDList();
        for (int i = 0; i < n; i++) {
            NDArray row = a.x.get(new NDIndex("{}:{}, :{}", i, i + 1, a.lengths[i]))
                    .concat(b.x.get(new NDIndex("{}:{}, :{}", i, i + 1, b.lengths[i])), 1);
            if (lengths[i] < width) {
                row = row.concat(m(ws).zeros(new Shape(1, width - lengths[i], d)), 1);
            }
            rows.add(row);
        }
        return new PtStates(NDArrays.concat(rows), lengths);
    }

    @Override
    public PtStates encoderLayer(Workspace ws, Stream stream, int layer, PtStates x) {
        NDArray[] bias = switch (stream) {
            case IMAGE -> p.imageBias;
            case TEXT -> p.textBias;
            case JOINT -> p.jointBias;
            case DECODER -> throw new IllegalArgumentException("encoder layer on the decoder stream");
        };
        int w = x.width();
        NDManager m = m(ws);
        NDArray b = bias[layer - 1].get(m, new NDIndex(":, :{}, :{}", w, w)).expandDims(0);
        NDArray out = ops.encoderLayer(p.encoder[layer - 1], x.x, b, PtOps.paddingMask(m, x.lengths, w));
        return new PtStates(out, x.lengths);
    }

    @Override
    public PtMemory encoderOutput(Workspace ws, PtStates x) {
        NDManager keep = m(ws);
        NDArray out = ops.layerNorm(x.x, p.encoderOutLn);
        out.attach(keep);
        return new PtMemory(keep, out, PtOps.paddingMask(keep, x.lengths, x.width()), x.lengths.clone(), c.decoderLayers());
    }

    @Override
    public float[] memoryRows(PtMemory memory, int example) {
        try (NDManager t = memory.manager.newSubManager()) {
            return memory.output.get(t, new NDIndex("{}, :{}", example, memory.tokens[example])).toFloatArray();
        }
    }

    @Override
    public void prepareCross(PtMemory m, int layer, int[] examples) {
        PtParams.Attn a = p.decoder[layer - 1].cross();
        try (NDManager t = m.manager.newSubManager()) {
            NDArray rows = m.output.get(t, new NDIndex("{}", t.create(PtHost.longs(examples))));
            NDArray k = PtOps.linear(rows, a.k());
            NDArray v = PtOps.linear(rows, a.v());
            for (int i = 0; i < examples.length; i++) {
                NDArray ki = k.get(new NDIndex("{}:{}", i, i + 1));
                NDArray vi = v.get(new NDIndex("{}:{}", i, i + 1));
                ki.attach(m.manager);
                vi.attach(m.manager);
                m.crossK[examples[i]][layer] = ki;
                m.crossV[examples[i]][layer] = vi;
            }
        }
    }

    /**
     * Cross keys, values and padding mask of {@code layer} for rows of the given examples:
     * {@code [1, N, d]} (broadcast) when every row belongs to one example, else one per row.
     */
    private NDArray[] crossFor(NDManager m, PtMemory mem, int layer, int[] examples) {
        boolean one = true;
        for (int e : examples) {
            one &= e == examples[0];
            if (mem.crossK[e][layer] == null) {
                throw new IllegalStateException("cross keys of decoder layer " + layer + " were not prepared for example "
                        + e);
            }
        }
        if (one) {
            int e = examples[0];
            return new NDArray[] {mem.crossK[e][layer], mem.crossV[e][layer],
                mem.mask == null ? null : mem.mask.get(m, new NDIndex("{}:{}", e, e + 1))};
        }
        NDList ks = new NDList();
        NDList vs = new NDList();
        for (int e : examples) {
            ks.add(mem.crossK[e][layer]);
            vs.add(mem.crossV[e][layer]);
        }
        NDArray mask = mem.mask == null ? null : mem.mask.get(m, new NDIndex("{}", m.create(PtHost.longs(examples))));
        NDArray k = NDArrays.concat(ks);
        NDArray v = NDArrays.concat(vs);
        k.attach(m);
        v.attach(m);
        return new NDArray[] {k, v, mask};
    }

    // ------------------------------------------------------------------ decoder stage

    @Override
    public PtStates embedDecoder(Workspace ws, int[][] sequences) {
        int[] lengths = Arrays.stream(sequences).mapToInt(s -> s.length).toArray();
        return new PtStates(ops.layerNorm(embed(m(ws), sequences, lengths), p.decoderEmbedLn), lengths);
    }

    @Override
    public PtCaches caches(Workspace ws, int rows, int capacity) {
        return new PtCaches(m(ws), c.decoderLayers(), rows, capacity, d);
    }

    @Override
    public PtStates decoderStep(Workspace ws, int layer, PtStates x, PtCaches caches, int[] rows, int[] positions,
            PtMemory memory, int[] examples) {
        NDManager m = m(ws);
        int pos = positions[0];
        for (int q : positions) {
            if (q != pos) {
                throw new IllegalArgumentException("rows of one decoding step are at different positions");
            }
        }
        caches.startPosition(pos);
        PtParams.Layer w = p.decoder[layer - 1];
        NDArray[] qkv = ops.selfQkv(w, x.x);
        caches.add(layer, rows, qkv[1], qkv[2]);
        NDArray[] past = caches.past(m, layer, rows);
        NDArray k = past == null ? qkv[1] : past[0].concat(qkv[1], 1);
        NDArray v = past == null ? qkv[2] : past[1].concat(qkv[2], 1);
        NDArray bias = p.decoderSelfBias[layer - 1].get(m, new NDIndex(":, {}, :{}", pos, pos + 1))
                .reshape(1, ops.heads, 1, pos + 1);
        NDArray attn = ops.attention(qkv[0], k, v, bias, caches.holes(m, layer, rows), w.self().cAttn());
        NDArray y = ops.attentionOutput(w.self(), w.selfPostLn(), attn, x.x);
        NDArray[] cross = crossFor(m, memory, layer, examples);
        long width = memory.width();
        NDArray crossBias = p.crossBias.get(m, new NDIndex(":, {}, :{}", pos, width)).reshape(1, ops.heads, 1, width);
        return new PtStates(ops.crossAndFfn(w, y, cross[0], cross[1], crossBias, cross[2]), x.lengths);
    }

    @Override
    public void propagateKv(Workspace ws, PtCaches caches, int layer, int[] rows, int[] positions, PtStates hidden) {
        caches.startPosition(positions[0]);
        NDArray[] kv = ops.selfKv(p.decoder[layer - 1], hidden.x);
        caches.add(layer, rows, kv[0], kv[1]);
    }

    @Override
    public void copyKv(PtCaches caches, int layer, int fromLayer, int[] rows, int[] positions) {
        caches.startPosition(positions[0]);
        NDArray[] kv = caches.current(caches.manager, fromLayer, rows);
        caches.add(layer, rows, kv[0], kv[1]);
    }

    @Override
    public PtCaches reorder(PtCaches caches, int[] parents) {
        caches.reorder(parents);
        return caches;
    }

    @Override
    public PtStates decoderPass(Workspace ws, int layer, PtStates x, PtMemory memory, int[] examples) {
        NDManager m = m(ws);
        PtParams.Layer w = p.decoder[layer - 1];
        int width = x.width();
        NDArray bias = p.decoderSelfBias[layer - 1].get(m, new NDIndex(":, :{}, :{}", width, width)).expandDims(0);
        NDArray[] qkv = ops.selfQkv(w, x.x);
        NDArray attn = ops.attention(qkv[0], qkv[1], qkv[2], bias, PtOps.causalMask(m, x.lengths, width), w.self().cAttn());
        NDArray y = ops.attentionOutput(w.self(), w.selfPostLn(), attn, x.x);
        NDArray[] cross = crossFor(m, memory, layer, examples);
        long crossWidth = memory.width();
        NDArray crossBias = p.crossBias.get(m, new NDIndex(":, :{}, :{}", width, crossWidth)).expandDims(0);
        return new PtStates(ops.crossAndFfn(w, y, cross[0], cross[1], crossBias, cross[2]), x.lengths);
    }

    // ------------------------------------------------------------------ both stages

    @Override
    public PtStates gather(Workspace ws, List<PtStates> sources, int[] source, int[] segment) {
        NDManager m = m(ws);
        int width = 0;
        for (PtStates s : sources) {
            width = Math.max(width, s.width());
        }
        NDList parts = new NDList();
        int[] base = new int[sources.size()];
        int at = 0;
        for (int i = 0; i < sources.size(); i++) {
            PtStates s = sources.get(i);
            NDArray x = s.x;
            if (s.width() < width) {
                x = x.concat(m.zeros(new Shape(s.segments(), width - s.width(), d)), 1);
            }
            parts.add(x);
            base[i] = at;
            at += s.segments();
        }
        long[] idx = new long[source.length];
        int[] lengths = new int[source.length];
        for (int k = 0; k < source.length; k++) {
            idx[k] = base[source[k]] + segment[k];
            lengths[k] = sources.get(source[k]).lengths[segment[k]];
        }
        NDArray all = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts);
        return new PtStates(all.get(m, new NDIndex("{}", m.create(idx))), lengths);
    }

    @Override
    public double[] measure(GateMeasure measure, PtStates out, PtStates in, int[] groupEnds) {
        return switch (measure) {
            case COSINE -> cosine(out, in, groupEnds);
            case TOP_PROBABILITY -> topProbability(out, groupEnds);
        };
    }

    /** Per group, the cosine over its segments' real tokens, on the host in double (rows by index, positions in order). */
    private double[] cosine(PtStates out, PtStates in, int[] groupEnds) {
        float[] a = out.host();
        float[] b = in.host();
        int plane = out.width() * d;
        if (in.width() != out.width()) {
            throw new IllegalStateException("a layer changed the padded width");
        }
        double[] v = new double[groupEnds.length];
        int start = 0;
        for (int g = 0; g < groupEnds.length; g++) {
            int n = groupEnds[g] - start;
            int[] off = new int[n];
            int[] len = new int[n];
            for (int i = 0; i < n; i++) {
                off[i] = (start + i) * plane;
                len[i] = out.lengths[start + i] * d;
            }
            v[g] = PtHost.cosine(a, b, off, len);
            start = groupEnds[g];
        }
        return v;
    }

    /** Per group, the smallest over its real positions of the largest softmax probability. */
    private double[] topProbability(PtStates out, int[] groupEnds) {
        float[] top;
        try (NDManager t = out.x.getManager().newSubManager()) {
            NDArray h = out.x.duplicate();
            h.attach(t);
            NDArray logits = PtOps.linear(ops.layerNorm(h, p.decoderOutLn), p.embedTokens);
            top = logits.softmax(-1).max(new int[] {-1}).toFloatArray();
        }
        int width = out.width();
        double[] v = new double[groupEnds.length];
        int start = 0;
        for (int g = 0; g < groupEnds.length; g++) {
            double least = 1;
            for (int s = start; s < groupEnds[g]; s++) {
                for (int j = 0; j < out.lengths[s]; j++) {
                    least = Math.min(least, top[s * width + j]);
                }
            }
            v[g] = least;
            start = groupEnds[g];
        }
        return v;
    }

    @Override
    public float[][][] logits(Workspace ws, PtStates x, int[] first) {
        NDManager m = m(ws);
        NDList scored = new NDList();
        int[] count = new int[x.segments()];
        for (int s = 0; s < x.segments(); s++) {
            count[s] = x.lengths[s] - first[s];
            scored.add(x.x.get(m, new NDIndex("{}, {}:{}", s, first[s], x.lengths[s])));
        }
        NDArray h = scored.size() == 1 ? scored.get(0) : NDArrays.concat(scored);
        float[] lg = PtOps.linear(ops.layerNorm(h, p.decoderOutLn), p.embedTokens).toFloatArray();
        int vocab = c.vocabSize();
        float[][][] out = new float[x.segments()][][];
        int at = 0;
        for (int s = 0; s < out.length; s++) {
            out[s] = new float[count[s]][];
            for (int t = 0; t < count[s]; t++, at++) {
                out[s][t] = Arrays.copyOfRange(lg, at * vocab, (at + 1) * vocab);
            }
        }
        return out;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            weights.close();
        }
    }
}
