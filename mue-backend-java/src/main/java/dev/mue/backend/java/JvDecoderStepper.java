package dev.mue.backend.java;

import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.StepOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Incremental decoding on the Java backend: every row keeps, per decoder layer, the keys and
 * values of the positions that layer has seen, so a token that exits early leaves deeper layers
 * filled according to the plan's {@link KvPolicy}. Rows that exit are dropped from deeper layers
 * of the same step (batch compaction).
 */
final class JvDecoderStepper implements DecoderStepper {
    private final JvExecutable exec;
    private final JvEncodedBatch enc;
    private final JvParams p;
    private final JvOps ops;
    private final int d;
    private final int layers;
    private final int maxPositions;
    private final KvPolicy kvPolicy;
    private Row[] rows;
    private boolean closed;

    /** One layer's self-attention cache of one row: keys and values of the positions present. */
    static final class LayerCache {
        float[] k;
        float[] v;
        int[] positions;
        int n;

        LayerCache(int capacity, int d) {
            k = new float[capacity * d];
            v = new float[capacity * d];
            positions = new int[capacity];
        }

        LayerCache copy() {
            LayerCache c = new LayerCache(0, 0);
            c.k = k.clone();
            c.v = v.clone();
            c.positions = positions.clone();
            c.n = n;
            return c;
        }

        void append(int pos, float[] kk, int kOff, float[] vv, int vOff, int d) {
            System.arraycopy(kk, kOff, k, n * d, d);
            System.arraycopy(vv, vOff, v, n * d, d);
            positions[n++] = pos;
        }
    }

    /** One row: its example, its next position, and its caches. */
    static final class Row {
        final int example;
        int pos;
        final LayerCache[] caches;

        Row(int example, int layers, int capacity, int d) {
            this.example = example;
            this.caches = new LayerCache[layers];
            for (int l = 0; l < layers; l++) {
                caches[l] = new LayerCache(capacity, d);
            }
        }

        private Row(Row o) {
            this.example = o.example;
            this.pos = o.pos;
            this.caches = new LayerCache[o.caches.length];
            for (int l = 0; l < caches.length; l++) {
                caches[l] = o.caches[l].copy();
            }
        }

        Row copy() {
            return new Row(this);
        }
    }

    JvDecoderStepper(JvExecutable exec, JvEncodedBatch enc, int[] exampleOfRow) {
        this.exec = exec;
        this.enc = enc;
        this.p = exec.params();
        this.ops = exec.ops();
        this.d = p.config.dModel();
        this.layers = p.config.decoderLayers();
        this.maxPositions = exec.plan().shapes().maxDecoderTokens();
        this.kvPolicy = exec.plan().policy().kvPolicy();
        rows = new Row[exampleOfRow.length];
        for (int r = 0; r < rows.length; r++) {
            rows[r] = new Row(exampleOfRow[r], layers, maxPositions, d);
        }
    }

    @Override
    public int rows() {
        return rows.length;
    }

    @Override
    public StepOutput step(int[] tokens, double threshold) {
        check();
        int n = rows.length;
        if (tokens.length != n) {
            throw new InvalidInputException("step got " + tokens.length + " tokens for " + n + " rows");
        }
        for (Row r : rows) {
            if (r.pos >= maxPositions) {
                throw new InvalidInputException("decoding past the plan's " + maxPositions + " decoder positions");
            }
        }
        float[] cur = exec.embedDecoder(tokens);
        int[] active = new int[n];
        for (int r = 0; r < n; r++) {
            active[r] = r;
        }
        float[] hidden = new float[n * d];
        int[] exitLayer = new int[n];
        List<List<GateRecord>> gates = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            gates.add(new ArrayList<>());
        }
        for (int l = 0; l < layers && active.length > 0; l++) {
            float[] out = layer(l, cur, active);
            int kept = 0;
            int[] keep = new int[active.length];
            for (int a = 0; a < active.length; a++) {
                int r = active[a];
                boolean exit = l == layers - 1;
                if (!exit) {
                    double sim = ops.k.cosine(out, a * d, cur, a * d, d);
                    exit = exec.decoderGateEnabled(l) && sim > threshold;
                    gates.get(r).add(new GateRecord(dev.mue.api.plan.Stream.DECODER, l + 1, sim, threshold, exit));
                }
                if (exit) {
                    System.arraycopy(out, a * d, hidden, r * d, d);
                    exitLayer[r] = l + 1;
                    fillSkipped(rows[r], l, out, a * d);
                } else {
                    keep[kept++] = a;
                }
            }
            float[] next = new float[kept * d];
            int[] nextActive = new int[kept];
            for (int i = 0; i < kept; i++) {
                System.arraycopy(out, keep[i] * d, next, i * d, d);
                nextActive[i] = active[keep[i]];
            }
            cur = next;
            active = nextActive;
        }
        float[] logits = exec.logits(hidden, n);
        int vocab = p.config.vocabSize();
        float[][] perRow = new float[n][];
        for (int r = 0; r < n; r++) {
            perRow[r] = Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
            rows[r].pos++;
        }
        return new StepOutput(perRow, exitLayer, gates);
    }

    /** One decoder layer for the active rows (one new token each), appending to their caches. */
    private float[] layer(int l, float[] x, int[] active) {
        ResolvedWeights.Layer layer = p.decoder[l];
        int na = active.length;
        float[] h = ops.layerNorm(layer.selfLn(), x, na, d);
        float[] q = ops.linear(layer.self().q(), h, na);
        ops.scaleQueries(q);
        float[] kk = ops.linear(layer.self().k(), h, na);
        float[] v = ops.linear(layer.self().v(), h, na);
        for (int a = 0; a < na; a++) {
            Row row = rows[active[a]];
            row.caches[l].append(row.pos, kk, a * d, v, a * d, d);
        }
        float[] attn = new float[na * d];
        float[] bias = exec.decoderSelfBias[l];
        int td = exec.decoderSelfBlock.rows();
        int heads = ops.heads;
        int hd = ops.headDim;
        ops.forEach(na * heads, (long) maxPositions * hd * 2, t -> {
            int a = t / heads;
            int hh = t % heads;
            Row row = rows[active[a]];
            LayerCache cache = row.caches[l];
            float[] b = new float[cache.n];
            int base = (hh * td + row.pos) * td;
            for (int j = 0; j < cache.n; j++) {
                b[j] = bias[base + cache.positions[j]];
            }
            ops.k.attention(q, a * d + hh * hd, d, cache.k, hh * hd, d, cache.v, hh * hd, d, 1, cache.n, hd, b, 0,
                    cache.n, false, 0, attn, a * d + hh * hd, d, new float[cache.n]);
        });
        float[] out = x.clone();
        ops.attentionOutput(layer.self(), layer.selfPostLn(), attn, out, na);
        float[] h2 = ops.layerNorm(layer.crossLn(), out, na, d);
        float[] q2 = ops.linear(layer.cross().q(), h2, na);
        ops.scaleQueries(q2);
        float[] attn2 = new float[na * d];
        for (int a = 0; a < na; a++) {
            Row row = rows[active[a]];
            exec.crossAttention(enc, l, layer.cross(), q2, a, 1, row.pos, row.example, attn2);
        }
        ops.attentionOutput(layer.cross(), layer.crossPostLn(), attn2, out, na);
        ops.ffnBlock(layer, out, na);
        return out;
    }

    /** Gives the layers after {@code exitLayer} an entry for this position, per the KV policy. */
    private void fillSkipped(Row row, int exitLayer, float[] hidden, int off) {
        if (kvPolicy == KvPolicy.OMIT) {
            return;
        }
        LayerCache src = row.caches[exitLayer];
        for (int l = exitLayer + 1; l < layers; l++) {
            if (kvPolicy == KvPolicy.COPY) {
                row.caches[l].append(row.pos, src.k, (src.n - 1) * d, src.v, (src.n - 1) * d, d);
            } else {
                ResolvedWeights.Layer layer = p.decoder[l];
                float[] x = Arrays.copyOfRange(hidden, off, off + d);
                float[] h = ops.layerNorm(layer.selfLn(), x, 1, d);
                float[] kk = ops.linear(layer.self().k(), h, 1);
                float[] v = ops.linear(layer.self().v(), h, 1);
                row.caches[l].append(row.pos, kk, 0, v, 0, d);
            }
        }
    }

    @Override
    public void reorder(int[] parents) {
        check();
        boolean[] used = new boolean[rows.length];
        Row[] next = new Row[parents.length];
        for (int r = 0; r < parents.length; r++) {
            int pr = parents[r];
            if (pr < 0 || pr >= rows.length) {
                throw new InvalidInputException("reorder parent " + pr + " outside 0.." + (rows.length - 1));
            }
            // The first child takes the parent's caches; later children copy them (nothing has
            // mutated the parent yet, so every copy sees the same state).
            next[r] = used[pr] ? rows[pr].copy() : rows[pr];
            used[pr] = true;
        }
        rows = next;
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("decoder stepper is closed");
        }
        exec.checkOpen();
    }

    @Override
    public void close() {
        closed = true;
        rows = new Row[0];
    }
}
