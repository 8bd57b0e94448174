package dev.mue.backend.java;

import dev.mue.api.exit.GateMeasure;
import dev.mue.api.layer.LayerOps;
import dev.mue.api.layer.Workspace;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.plan.BiasBlock;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PositionBiases;
import dev.mue.api.plan.Stream;
import dev.mue.backend.java.kernels.JvBuffers;
import dev.mue.backend.java.kernels.JvKernels;
import dev.mue.backend.java.kernels.JvKeys;
import dev.mue.backend.java.kernels.JvParallel;
import java.util.Arrays;
import java.util.List;

/**
 * The Java backend's layer operations over packed rows (no padding): what the runtime drives to
 * execute a plan. Weights are packed for the kernels once, here ({@link JvParams}); memory is
 * garbage-collected, so workspaces are ignored, but large temporaries (feature maps, a layer's
 * normalised input, fused projections, attention outputs) are given back to a {@link JvBuffers}
 * as soon as their last reader is done, never the states handed to the runtime. Attention heads
 * run on the backend's pool; the kernels' reduction order never depends on the batch, so a batch
 * gives bitwise the results of single calls.
 */
final class JvLayerOps implements LayerOps<JvStates, JvMemory, JvCaches> {
    private final Plan plan;
    private final ModelConfig c;
    private final JvParams p;
    private final JvOps ops;
    private final JvKernels k;
    private final JvResNet resnet;
    private final int d;
    /** Dense per-layer biases {@code [H, rows, cols]} (absolute plus relative, folded by the planner), 1-based. */
    private final float[][] textBias;
    private final float[][] imageBias;
    private final float[][] jointBias;
    private final float[][] decoderSelfBias;
    private final float[] crossBias;
    private final BiasBlock textBlock;
    private final BiasBlock imageBlock;
    private final BiasBlock jointBlock;
    private final BiasBlock decoderSelfBlock;
    private final BiasBlock crossBlock;

    JvLayerOps(Plan plan, JvKernels kernels, JvParallel parallel, JvBuffers buffers) {
        this.plan = plan;
        this.c = plan.config();
        this.p = new JvParams(c, plan.weights(), kernels, parallel);
        this.k = kernels;
        this.ops = new JvOps(kernels, parallel, p, buffers);
        this.resnet = new JvResNet(p, kernels, ops);
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

    /** The dense biases with layer {@code l} at index {@code l} (1-based). */
    private static float[][] dense(BiasBlock b, int layers) {
        if (b == null) {
            return null;
        }
        float[][] zeroBased = b.denseLayers(layers);
        float[][] out = new float[layers + 1][];
        System.arraycopy(zeroBased, 0, out, 1, layers);
        return out;
    }

    @Override
    public Workspace workspace() {
        return Workspace.none();
    }

    // ------------------------------------------------------------------ encoder stage

    @Override
    public JvStates embedImages(Workspace ws, List<float[]> images) {
        float[][] parts = new float[images.size()][];
        int[] lengths = new int[images.size()];
        for (int i = 0; i < parts.length; i++) {
            parts[i] = embedImage(images.get(i));
            lengths[i] = parts[i].length / d;
        }
        JvStates packed = JvStates.pack(parts, lengths, d);
        for (float[] part : parts) {
            ops.buffers.give(part);
        }
        return packed;
    }

    /** ResNet, {@code image_proj}, type embedding 1, {@code patch_layernorm_embedding}: {@code [I, d]}. */
    private float[] embedImage(float[] image) {
        JvResNet.Map f = resnet.forward(image, c.imageSize());
        int tokens = f.h() * f.w();
        float[] x = ops.linear(p.imageProj, f.data(), tokens);
        ops.buffers.give(f.data());
        ResolvedWeights.Norm ln = p.imageEmbedLn;
        ops.rowChunks(tokens, (long) d * 8, (t0, n) -> {
            for (int t = t0; t < t0 + n; t++) {
                for (int j = 0; j < d; j++) {
                    x[t * d + j] += p.imageType[j];
                }
            }
            k.layerNorm(x, t0 * d, n, d, ln.w(), ln.b(), ops.eps, x, t0 * d);
        });
        return x;
    }

    @Override
    public JvStates embedTexts(Workspace ws, List<int[]> texts) {
        int[] lengths = texts.stream().mapToInt(t -> t.length).toArray();
        JvStates s = JvStates.of(null, lengths);
        float[] x = new float[s.rows() * d];
        for (int i = 0; i < lengths.length; i++) {
            int[] tokens = texts.get(i);
            int o = s.offsets()[i];
            for (int t = 0; t < tokens.length; t++) {
                for (int j = 0; j < d; j++) {
                    x[(o + t) * d + j] = p.embedTokens[tokens[t] * d + j] + p.textType[j];
                }
            }
        }
        ops.layerNorm(p.textEmbedLn, x, s.rows(), d, x);
        return JvStates.of(x, lengths);
    }

    @Override
    public JvStates concat(Workspace ws, JvStates a, JvStates b) {
        int n = a.segments();
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            lengths[i] = a.lengths()[i] + b.lengths()[i];
        }
        JvStates s = JvStates.of(null, lengths);
        float[] x = new float[s.rows() * d];
        for (int i = 0; i < n; i++) {
            int o = s.offsets()[i] * d;
            System.arraycopy(a.data(), a.offsets()[i] * d, x, o, a.lengths()[i] * d);
            System.arraycopy(b.data(), b.offsets()[i] * d, x, o + a.lengths()[i] * d, b.lengths()[i] * d);
        }
        return JvStates.of(x, lengths);
    }

    @Override
    public JvStates encoderLayer(Workspace ws, Stream stream, int layer, JvStates x) {
        BiasBlock block = switch (stream) {
            case IMAGE -> imageBlock;
            case TEXT -> textBlock;
            case JOINT -> jointBlock;
            case DECODER -> throw new IllegalArgumentException("encoder layer on the decoder stream");
        };
        float[] bias = switch (stream) {
            case IMAGE -> imageBias[layer];
            case TEXT -> textBias[layer];
            default -> jointBias[layer];
        };
        ResolvedWeights.Layer w = p.encoder[layer - 1];
        JvParams.Packed pk = p.encoderPacked[layer - 1];
        int rows = x.rows();
        float[] h = ops.layerNorm(w.selfLn(), x.data(), rows, d);
        float[] qkv = ops.linear(pk.selfQkv(), h, rows);
        ops.buffers.give(h);
        ops.scaleQueries(qkv, rows, 3 * d);
        float[] attn = ops.segmentSelfAttention(qkv, x.offsets(), x.lengths(), null, bias, block.rows(),
                block.cols(), false);
        ops.buffers.give(qkv);
        float[] mid = ops.attentionOutput(pk.selfO(), w.self().cAttn(), w.selfPostLn(), attn, x.data(), rows);
        ops.buffers.give(attn);
        float[] out = ops.ffnBlock(w, pk, mid, rows);
        ops.buffers.give(mid);
        return new JvStates(out, x.lengths(), x.offsets(), rows);
    }

    @Override
    public JvMemory encoderOutput(Workspace ws, JvStates x) {
        float[][] out = new float[x.segments()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new float[x.lengths()[i] * d];
            k.layerNorm(x.data(), x.offsets()[i] * d, x.lengths()[i], d, p.encoderOutLn.w(), p.encoderOutLn.b(), ops.eps,
                    out[i], 0);
        }
        return new JvMemory(out, x.lengths().clone(), c.decoderLayers());
    }

    @Override
    public float[] memoryRows(JvMemory memory, int example) {
        return memory.output[example].clone();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Deferred to the first call that attends to them ({@link #crossKeysAndValues}): a scoring
     * pass with few rows attends through the encoder output instead and never needs them.
     */
    @Override
    public void prepareCross(JvMemory m, int layer, int[] examples) {
    }

    /** Makes sure example {@code e} has decoder layer {@code layer}'s cross-attention keys and values. */
    private void crossKeysAndValues(JvMemory m, int layer, int e) {
        synchronized (m.crossKeys[e]) {
            if (m.crossKeys[e][layer] != null) {
                return;
            }
            int n = m.tokens[e];
            float[] both = ops.linear(p.decoderPacked[layer - 1].crossKv(), m.output[e], n);
            JvKeys[] keys = new JvKeys[ops.heads];
            ops.forEach(ops.heads, (long) n * ops.headDim * 4, h -> keys[h] = k.keys(both, h * ops.headDim, 2 * d, n,
                    ops.headDim));
            float[] v = new float[n * d];
            for (int t = 0; t < n; t++) {
                System.arraycopy(both, t * 2 * d + d, v, t * d, d);
            }
            ops.buffers.give(both);
            m.crossV[e][layer] = v;
            m.crossKeys[e][layer] = keys;
        }
    }

    /** Example {@code e}'s encoder output rows as keys of {@code d} dimensions, made on first use. */
    private JvKeys outputKeys(JvMemory m, int e) {
        synchronized (m.crossKeys[e]) {
            if (m.outputKeys[e] == null) {
                m.outputKeys[e] = k.keys(m.output[e], 0, d, m.tokens[e], d);
            }
            return m.outputKeys[e];
        }
    }

    /**
     * Whether a scoring pass attends through the encoder output for an example of {@code tokens}
     * encoder tokens and {@code rows} query rows at a layer: per head {@code h}, {@code q . k_j =
     * (q_h Wk_h) . x_j + q_h . bk_h}, whose last term is the same for every key and cancels in the
     * softmax, and {@code sum_j p_j v_j = (sum_j p_j x_j) Wv_h^T + bv_h}, the probabilities summing
     * to 1. That costs {@code rows (2 d^2 + 2 H tokens d)} multiply-adds against {@code 2 tokens
     * d^2 + 2 rows tokens d} for the keys and values and attention over them: less below {@code
     * tokens d / (d + (H - 1) tokens)} rows (65 for OFA-base's 914 tokens). The choice depends on
     * the example's own rows only, never on the rest of the batch or on what was computed before.
     */
    static boolean attendsThroughMemory(int tokens, int rows, int d, int heads) {
        return (long) rows * (d + (long) (heads - 1) * tokens) < (long) tokens * d;
    }

    /**
     * Groups of query rows for cross-attention: group {@code g} is the {@code count[g]} packed rows
     * of the queries from {@code first[g]}, at position {@code position[g]} (or from it), attending
     * to example {@code example[g]}'s encoder output.
     */
    private static final class CrossGroups {
        final int[] first;
        final int[] count;
        final int[] position;
        final int[] example;
        int size;

        CrossGroups(int capacity) {
            first = new int[capacity];
            count = new int[capacity];
            position = new int[capacity];
            example = new int[capacity];
        }

        void add(int rowFirst, int rows, int at, int of) {
            first[size] = rowFirst;
            count[size] = rows;
            position[size] = at;
            example[size] = of;
            size++;
        }

        /** The groups whose {@code flag} is {@code value}, in order. */
        CrossGroups where(boolean[] flag, boolean value) {
            CrossGroups out = new CrossGroups(size);
            for (int g = 0; g < size; g++) {
                if (flag[g] == value) {
                    out.add(first[g], count[g], position[g], example[g]);
                }
            }
            return out;
        }
    }

    /**
     * Cross-attention of groups of query rows ({@link CrossGroups}), at consecutive positions from
     * {@code position[g]} when {@code sequence}, or all at {@code position[g]} otherwise (sharing one
     * bias row). Groups and heads run in parallel.
     */
    private void crossAttention(JvMemory m, int layer, float[] q, CrossGroups cg, boolean sequence, float[] out) {
        int heads = ops.heads;
        int hd = ops.headDim;
        int cols = crossBlock.cols();
        int rows = crossBlock.rows();
        long maxWork = 0;
        for (int g = 0; g < cg.size; g++) {
            crossKeysAndValues(m, layer, cg.example[g]);
            maxWork = Math.max(maxWork, (long) cg.count[g] * m.tokens[cg.example[g]] * hd * 2);
        }
        ops.forEach(cg.size * heads, maxWork, t -> {
            int g = t / heads;
            int h = t % heads;
            int e = cg.example[g];
            int qo = cg.first[g] * d + h * hd;
            k.attention(q, qo, d, m.crossKeys[e][layer][h], m.crossV[e][layer], h * hd, d, cg.count[g],
                    crossBias, (h * rows + cg.position[g]) * cols, sequence ? cols : 0, false, 0, out, qo, d);
        });
    }

    /**
     * {@link #crossAttention} of groups of consecutive positions through the encoder output, without
     * its keys and values ({@link #attendsThroughMemory}). An example's groups are one block of rows
     * (a scoring pass lays out each example's distinct rows together), attended in one call per head,
     * so that its keys (the output's rows) are read once per head, not once per group: the queries
     * times {@code Wk_h^T}, attention over the output's rows as keys and values with each row's bias
     * gathered, that times {@code Wv_h^T} plus {@code bv_h}. Examples and heads run in parallel.
     */
    private void crossAttentionThroughMemory(JvMemory m, int layer, float[] q, CrossGroups cg, float[] out) {
        JvParams.CrossThroughMemory w = p.decoderPacked[layer - 1].crossThroughMemory();
        int groups = cg.size;
        int[] first = cg.first;
        int[] count = cg.count;
        int[] position = cg.position;
        int[] example = cg.example;
        int heads = ops.heads;
        int hd = ops.headDim;
        int cols = crossBlock.cols();
        int biasRows = crossBlock.rows();
        // Blocks: runs of groups of one example whose rows follow each other.
        int[] blockGroup = new int[groups + 1];
        int blocks = 0;
        for (int g = 0; g < groups; g++) {
            if (g == 0 || example[g] != example[g - 1] || first[g] != first[g - 1] + count[g - 1]) {
                blockGroup[blocks++] = g;
            }
        }
        blockGroup[blocks] = groups;
        JvKeys[] keys = new JvKeys[blocks];
        int[] blockRows = new int[blocks];
        long maxWork = 0;
        for (int b = 0; b < blocks; b++) {
            int e = example[blockGroup[b]];
            keys[b] = outputKeys(m, e);
            for (int g = blockGroup[b]; g < blockGroup[b + 1]; g++) {
                blockRows[b] += count[g];
            }
            maxWork = Math.max(maxWork, (long) blockRows[b] * (m.tokens[e] + d) * d * 2);
        }
        ops.forEach(blocks * heads, maxWork, t -> {
            int b = t / heads;
            int h = t % heads;
            int g0 = blockGroup[b];
            int e = example[g0];
            int nq = blockRows[b];
            int row0 = first[g0];
            float[] bias = null;
            if (crossBias != null) {
                // Row i of the block at its own position's bias row.
                bias = new float[nq * cols];
                int i = 0;
                for (int g = g0; g < blockGroup[b + 1]; g++) {
                    System.arraycopy(crossBias, (h * biasRows + position[g]) * cols, bias, i * cols, count[g] * cols);
                    i += count[g];
                }
            }
            float[] qh = new float[nq * hd];
            for (int i = 0; i < nq; i++) {
                System.arraycopy(q, (row0 + i) * d + h * hd, qh, i * hd, hd);
            }
            float[] qk = new float[nq * d];
            k.linear(qh, 0, nq, w.keys()[h], null, qk, 0);
            float[] px = new float[nq * d];
            k.attention(qk, 0, d, keys[b], m.output[e], 0, d, nq, bias, 0, cols, false, 0, px, 0, d);
            float[] o = new float[nq * hd];
            k.linear(px, 0, nq, w.values()[h], w.valueBias() == null ? null : w.valueBias()[h], o, 0);
            for (int i = 0; i < nq; i++) {
                System.arraycopy(o, i * hd, out, (row0 + i) * d + h * hd, hd);
            }
        });
    }

    // ------------------------------------------------------------------ decoder stage

    @Override
    public JvStates embedDecoder(Workspace ws, int[][] sequences) {
        int[] lengths = Arrays.stream(sequences).mapToInt(s -> s.length).toArray();
        JvStates s = JvStates.of(null, lengths);
        float[] x = new float[s.rows() * d];
        for (int i = 0; i < sequences.length; i++) {
            int o = s.offsets()[i];
            for (int t = 0; t < sequences[i].length; t++) {
                System.arraycopy(p.embedTokens, sequences[i][t] * d, x, (o + t) * d, d);
            }
        }
        k.layerNorm(x, 0, s.rows(), d, p.decoderEmbedLn.w(), p.decoderEmbedLn.b(), ops.eps, x, 0);
        return JvStates.of(x, lengths);
    }

    @Override
    public JvCaches caches(Workspace ws, int rows, int capacity) {
        JvCaches.Row[] r = new JvCaches.Row[rows];
        for (int i = 0; i < rows; i++) {
            r[i] = new JvCaches.Row(c.decoderLayers());
        }
        return new JvCaches(r, capacity);
    }

    @Override
    public JvStates decoderStep(Workspace ws, int layer, JvStates x, JvCaches caches, int[] rows, int[] positions,
            JvMemory memory, int[] examples) {
        ResolvedWeights.Layer w = p.decoder[layer - 1];
        JvParams.Packed pk = p.decoderPacked[layer - 1];
        int na = rows.length;
        float[] h = ops.layerNorm(w.selfLn(), x.data(), na, d);
        float[] qkv = ops.linear(pk.selfQkv(), h, na);
        ops.scaleQueries(qkv, na, 3 * d);
        for (int a = 0; a < na; a++) {
            int o = a * 3 * d;
            caches.rows[rows[a]].append(layer, positions[a], Arrays.copyOfRange(qkv, o + d, o + 2 * d),
                    Arrays.copyOfRange(qkv, o + 2 * d, o + 3 * d), caches.capacity);
        }
        float[] attn = new float[na * d];
        float[] bias = decoderSelfBias[layer];
        int td = decoderSelfBlock.rows();
        int heads = ops.heads;
        int hd = ops.headDim;
        ops.forEach(na, (long) td * d * 2, a -> {
            JvCaches.Row row = caches.rows[rows[a]];
            int n = row.count(layer);
            // The keys and values this layer holds, in order, each with the bias of its own position
            // (OMIT leaves holes).
            float[] kk = new float[n * d];
            float[] vv = new float[n * d];
            int[] pos = new int[n];
            int j = n;
            for (JvCaches.Entry e = row.head(layer); e != null; e = e.previous()) {
                j--;
                System.arraycopy(e.k(), 0, kk, j * d, d);
                System.arraycopy(e.v(), 0, vv, j * d, d);
                pos[j] = e.position();
            }
            float[] b = new float[heads * n];
            for (int hh = 0; hh < heads; hh++) {
                int base = (hh * td + positions[a]) * td;
                for (int i = 0; i < n; i++) {
                    b[hh * n + i] = bias[base + pos[i]];
                }
            }
            for (int hh = 0; hh < heads; hh++) {
                JvKeys keys = k.keys(kk, hh * hd, d, n, hd);
                k.attention(qkv, a * 3 * d + hh * hd, 3 * d, keys, vv, hh * hd, d, 1, b, hh * n, n, false, 0, attn,
                        a * d + hh * hd, d);
            }
        });
        float[] out = ops.attentionOutput(pk.selfO(), w.self().cAttn(), w.selfPostLn(), attn, x.data(), na);
        float[] h2 = ops.layerNorm(w.crossLn(), out, na, d);
        float[] q2 = ops.linear(pk.crossQ(), h2, na);
        ops.scaleQueries(q2, na, d);
        float[] attn2 = new float[na * d];
        // Rows of one example at one position (a beam) share the keys and the bias row: one call each.
        CrossGroups groups = new CrossGroups(na);
        for (int a = 0; a < na; a++) {
            int last = groups.size - 1;
            if (last >= 0 && groups.example[last] == examples[a] && groups.position[last] == positions[a]) {
                groups.count[last]++;
            } else {
                groups.add(a, 1, positions[a], examples[a]);
            }
        }
        crossAttention(memory, layer, q2, groups, false, attn2);
        out = ops.attentionOutput(pk.crossO(), w.cross().cAttn(), w.crossPostLn(), attn2, out, na);
        out = ops.ffnBlock(w, pk, out, na);
        return new JvStates(out, x.lengths(), x.offsets(), na);
    }

    @Override
    public void propagateKv(Workspace ws, JvCaches caches, int layer, int[] rows, int[] positions, JvStates hidden) {
        ResolvedWeights.Layer w = p.decoder[layer - 1];
        int n = rows.length;
        float[] h = ops.layerNorm(w.selfLn(), hidden.data(), n, d);
        // The fused projection computes the queries too; they are dropped (exits are rare, rows few).
        float[] qkv = ops.linear(p.decoderPacked[layer - 1].selfQkv(), h, n);
        for (int i = 0; i < n; i++) {
            int o = i * 3 * d;
            caches.rows[rows[i]].append(layer, positions[i], Arrays.copyOfRange(qkv, o + d, o + 2 * d),
                    Arrays.copyOfRange(qkv, o + 2 * d, o + 3 * d), caches.capacity);
        }
    }

    @Override
    public void copyKv(JvCaches caches, int layer, int fromLayer, int[] rows, int[] positions) {
        for (int i = 0; i < rows.length; i++) {
            JvCaches.Row row = caches.rows[rows[i]];
            JvCaches.Entry e = row.find(fromLayer, positions[i]);
            if (e == null) {
                throw new IllegalStateException("decoder layer " + fromLayer + " holds no entry for position "
                        + positions[i]);
            }
            // Entries are immutable: the copy shares the source layer's arrays.
            row.append(layer, positions[i], e.k(), e.v(), caches.capacity);
        }
    }

    @Override
    public JvCaches reorder(JvCaches caches, int[] parents) {
        return caches.reorder(parents);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Rows that repeat an earlier segment's of the same example ({@link JvSharedRows}: visual
     * entailment's candidate answers after one prompt) are computed once and copied: the same bits
     * as computing each of them. An example with few distinct rows attends through its encoder
     * output rather than to the layer's cross-attention keys and values, which are then never
     * computed ({@link #attendsThroughMemory}).
     */
    @Override
    public JvStates decoderPass(Workspace ws, int layer, JvStates x, JvMemory memory, int[] examples) {
        ResolvedWeights.Layer w = p.decoder[layer - 1];
        JvParams.Packed pk = p.decoderPacked[layer - 1];
        int n = x.segments();
        JvSharedRows shared = JvSharedRows.of(x, examples, d);
        int rows = shared == null ? x.rows() : shared.count();
        float[] in = shared == null ? x.data() : shared.distinctRows(x.data(), x, d);
        float[] h = ops.layerNorm(w.selfLn(), in, rows, d);
        float[] qkv = ops.linear(pk.selfQkv(), h, rows);
        ops.scaleQueries(qkv, rows, 3 * d);
        int td = decoderSelfBlock.rows();
        // A segment's queries from its first distinct row attend to all its keys, shared ones included.
        float[] attn = ops.segmentSelfAttention(shared == null ? qkv : shared.allRows(qkv, 3 * d), x.offsets(),
                x.lengths(), shared == null ? null : shared.from(), decoderSelfBias[layer], td, td, true);
        if (shared != null) {
            attn = shared.distinctRows(attn, x, d);
        }
        float[] out = ops.attentionOutput(pk.selfO(), w.self().cAttn(), w.selfPostLn(), attn, in, rows);
        float[] h2 = ops.layerNorm(w.crossLn(), out, rows, d);
        float[] q2 = ops.linear(pk.crossQ(), h2, rows);
        ops.scaleQueries(q2, rows, d);
        float[] attn2 = new float[rows * d];
        // One group per segment with distinct rows: its rows at consecutive positions from the first.
        CrossGroups groups = new CrossGroups(n);
        for (int s = 0; s < n; s++) {
            int start = shared == null ? 0 : shared.from(s);
            if (start < x.lengths()[s]) {
                groups.add(shared == null ? x.offsets()[s] : shared.firstDistinct(s), x.lengths()[s] - start, start,
                        examples[s]);
            }
        }
        // Each example attends through its encoder output when its rows here are few enough.
        int[] exampleRows = new int[memory.tokens.length];
        for (int g = 0; g < groups.size; g++) {
            exampleRows[groups.example[g]] += groups.count[g];
        }
        boolean[] through = new boolean[groups.size];
        for (int g = 0; g < groups.size; g++) {
            int e = groups.example[g];
            through[g] = attendsThroughMemory(memory.tokens[e], exampleRows[e], d, ops.heads);
        }
        CrossGroups keyed = groups.where(through, false);
        if (keyed.size > 0) {
            crossAttention(memory, layer, q2, keyed, true, attn2);
        }
        CrossGroups viaMemory = groups.where(through, true);
        if (viaMemory.size > 0) {
            crossAttentionThroughMemory(memory, layer, q2, viaMemory, attn2);
        }
        out = ops.attentionOutput(pk.crossO(), w.cross().cAttn(), w.crossPostLn(), attn2, out, rows);
        out = ops.ffnBlock(w, pk, out, rows);
        return new JvStates(shared == null ? out : shared.allRows(out, d), x.lengths(), x.offsets(), x.rows());
    }

    // ------------------------------------------------------------------ both stages

    @Override
    public JvStates gather(Workspace ws, List<JvStates> sources, int[] source, int[] segment) {
        int n = source.length;
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            lengths[i] = sources.get(source[i]).lengths()[segment[i]];
        }
        JvStates s = JvStates.of(null, lengths);
        float[] x = new float[s.rows() * d];
        for (int i = 0; i < n; i++) {
            JvStates src = sources.get(source[i]);
            System.arraycopy(src.data(), src.offsets()[segment[i]] * d, x, s.offsets()[i] * d, lengths[i] * d);
        }
        return JvStates.of(x, lengths);
    }

    @Override
    public double[] measure(GateMeasure measure, JvStates out, JvStates in, int[] groupEnds) {
        double[] v = new double[groupEnds.length];
        int start = 0;
        for (int g = 0; g < groupEnds.length; g++) {
            int end = groupEnds[g];
            // A group's segments are consecutive, so its rows are one contiguous range.
            int row0 = out.offsets()[start];
            int rows = end == out.segments() ? out.rows() - row0 : out.offsets()[end] - row0;
            v[g] = switch (measure) {
                case COSINE -> k.cosine(out.data(), row0 * d, in.data(), row0 * d, rows * d);
                case TOP_PROBABILITY -> topProbability(out.data(), row0, rows);
            };
            start = end;
        }
        return v;
    }

    /** The smallest, over the rows, of the largest softmax probability of their logits. */
    private double topProbability(float[] x, int row0, int rows) {
        float[] h = new float[rows * d];
        k.layerNorm(x, row0 * d, rows, d, p.decoderOutLn.w(), p.decoderOutLn.b(), ops.eps, h, 0);
        float[] logits = ops.linear(p.lmHead, h, rows);
        int vocab = c.vocabSize();
        double least = 1;
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < vocab; t++) {
                max = Math.max(max, logits[r * vocab + t]);
            }
            double z = 0;
            for (int t = 0; t < vocab; t++) {
                z += Math.exp(logits[r * vocab + t] - max);
            }
            least = Math.min(least, 1 / z);
        }
        ops.buffers.give(logits);
        return least;
    }

    @Override
    public float[][][] logits(Workspace ws, JvStates x, int[] first) {
        int vocab = c.vocabSize();
        int n = x.segments();
        int total = 0;
        for (int s = 0; s < n; s++) {
            total += x.lengths()[s] - first[s];
        }
        float[] h = new float[total * d];
        int o = 0;
        for (int s = 0; s < n; s++) {
            int count = x.lengths()[s] - first[s];
            k.layerNorm(x.data(), (x.offsets()[s] + first[s]) * d, count, d, p.decoderOutLn.w(), p.decoderOutLn.b(),
                    ops.eps, h, o * d);
            o += count;
        }
        float[] lg = ops.linear(p.lmHead, h, total);
        float[][][] out = new float[n][][];
        o = 0;
        for (int s = 0; s < n; s++) {
            int count = x.lengths()[s] - first[s];
            out[s] = new float[count][];
            for (int t = 0; t < count; t++, o++) {
                out[s][t] = Arrays.copyOfRange(lg, o * vocab, (o + 1) * vocab);
            }
        }
        ops.buffers.give(lg);
        return out;
    }

    @Override
    public void close() {
        // Nothing native: the arrays, recycled ones included, go with the garbage collector.
    }
}
