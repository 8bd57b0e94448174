package dev.mue.backend.torch;

import dev.mue.backend.torch.forward.PtOps;
import dev.mue.backend.torch.forward.PtParams;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.StepOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Incremental decoding on the PyTorch backend. Every row advances one position per step, so each
 * decoder layer keeps one key/value tensor {@code [rows, positions, d]} for all rows, plus, on the
 * host, which (row, position) entries exist: a token that exits at layer e leaves the deeper layers
 * an entry computed from its exit state ({@link KvPolicy#PROPAGATE}), a copy of layer e's
 * ({@link KvPolicy#COPY}), or a masked hole ({@link KvPolicy#OMIT}, whose later queries then attend
 * only over the positions present, with the bias of those positions). Rows that exit are dropped
 * from the deeper layers of the same step (batch compaction).
 */
final class PtDecoderStepper implements DecoderStepper {
    private final PtExecutable exec;
    private final PtEncodedBatch enc;
    private final PtParams p;
    private final PtOps ops;
    private final int d;
    private final int layers;
    private final int maxPositions;
    private final KvPolicy kvPolicy;
    private final NDManager manager;
    private int[] example;
    private int pos;
    private final NDArray[] keys;
    private final NDArray[] values;
    /** Per layer, whether row r has an entry at position j: {@code [r * maxPositions + j]}. */
    private final boolean[][] present;
    private boolean closed;

    /** Rows of one batch and their keys and values {@code [rows, 1, d]} for one layer. */
    private record Group(int[] rows, NDArray k, NDArray v) {
    }

    PtDecoderStepper(PtExecutable exec, PtEncodedBatch enc, int[] exampleOfRow) {
        this.exec = exec;
        this.enc = enc;
        this.p = exec.p;
        this.ops = exec.ops;
        this.d = exec.d;
        this.layers = p.config.decoderLayers();
        this.maxPositions = exec.plan().shapes().maxDecoderTokens();
        this.kvPolicy = exec.plan().policy().kvPolicy();
        this.manager = exec.weights().newSubManager();
        this.example = exampleOfRow.clone();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.present = new boolean[layers][example.length * maxPositions];
    }

    @Override
    public int rows() {
        return example.length;
    }

    @Override
    public StepOutput step(int[] tokens, double threshold) {
        check();
        int n = example.length;
        if (tokens.length != n) {
            throw new InvalidInputException("step got " + tokens.length + " tokens for " + n + " rows");
        }
        if (pos >= maxPositions) {
            throw new InvalidInputException("decoding past the plan's " + maxPositions + " decoder positions");
        }
        if (n == 0) {
            pos++;
            return new StepOutput(new float[0][], new int[0], List.of());
        }
        try (NDManager tmp = manager.newSubManager()) {
            NDArray cur = exec.embedDecoder(tmp, PtHost.longs(tokens)).expandDims(1);
            float[] curHost = cur.toFloatArray();
            int[] active = new int[n];
            for (int r = 0; r < n; r++) {
                active[r] = r;
            }
            int[] exitLayer = new int[n];
            List<List<GateRecord>> gates = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                gates.add(new ArrayList<>());
            }
            List<List<Group>> fills = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                fills.add(new ArrayList<>());
            }
            List<Group> hidden = new ArrayList<>();
            int l = 0;
            for (; l < layers && active.length > 0; l++) {
                PtParams.Layer layer = p.decoder[l];
                NDArray[] qkv = ops.selfQkv(layer, cur);
                List<Group> slot = new ArrayList<>(fills.get(l));
                slot.add(new Group(active, qkv[1], qkv[2]));
                append(tmp, l, slot);
                NDArray k = active.length == n ? keys[l] : PtHost.rows(tmp, keys[l], active);
                NDArray v = active.length == n ? values[l] : PtHost.rows(tmp, values[l], active);
                NDArray bias = p.decoderSelfBias[l].get(tmp, new NDIndex(":, {}, :{}", pos, pos + 1))
                        .reshape(1, ops.heads, 1, pos + 1);
                NDArray attn = ops.attention(qkv[0], k, v, bias, holes(tmp, l, active), layer.self().cAttn());
                NDArray y = ops.attentionOutput(layer.self(), layer.selfPostLn(), attn, cur);
                NDArray[] cross = enc.crossFor(tmp, l, examplesOf(active));
                long width = enc.width();
                NDArray crossBias = p.crossBias.get(tmp, new NDIndex(":, {}, :{}", pos, width))
                        .reshape(1, ops.heads, 1, width);
                NDArray out = ops.crossAndFfn(layer, y, cross[0], cross[1], crossBias, cross[2]);
                float[] outHost = out.toFloatArray();
                int[] exited = new int[active.length];
                int[] keep = new int[active.length];
                int ne = 0;
                int nk = 0;
                for (int a = 0; a < active.length; a++) {
                    int r = active[a];
                    boolean exit = l == layers - 1;
                    if (!exit) {
                        double sim = PtHost.cosine(outHost, a * d, curHost, a * d, d);
                        exit = exec.decoderGateEnabled(l) && sim > threshold;
                        gates.get(r).add(new GateRecord(Stream.DECODER, l + 1, sim, threshold, exit));
                    }
                    if (exit) {
                        exited[ne++] = a;
                        exitLayer[r] = l + 1;
                    } else {
                        keep[nk++] = a;
                    }
                }
                if (ne > 0) {
                    exited = Arrays.copyOf(exited, ne);
                    int[] rowsOut = new int[ne];
                    for (int i = 0; i < ne; i++) {
                        rowsOut[i] = active[exited[i]];
                    }
                    NDArray outE = ne == active.length ? out : PtHost.rows(tmp, out, exited);
                    hidden.add(new Group(rowsOut, outE, null));
                    fillSkipped(tmp, l, rowsOut, outE, qkv, exited, ne == active.length, fills);
                }
                if (nk == 0) {
                    l++;
                    break;
                }
                if (nk < active.length) {
                    keep = Arrays.copyOf(keep, nk);
                    cur = PtHost.rows(tmp, out, keep);
                    curHost = PtHost.rows(outHost, d, keep);
                    int[] next = new int[nk];
                    for (int i = 0; i < nk; i++) {
                        next[i] = active[keep[i]];
                    }
                    active = next;
                } else {
                    cur = out;
                    curHost = outHost;
                }
            }
            // Layers every row skipped this step still get this position, per the KV policy.
            for (; l < layers; l++) {
                append(tmp, l, fills.get(l));
            }
            NDArray h = assemble(tmp, hidden, n, false)[0];
            float[] logits = exec.logits(h).toFloatArray();
            int vocab = p.config.vocabSize();
            float[][] perRow = new float[n][];
            for (int r = 0; r < n; r++) {
                perRow[r] = Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
            }
            pos++;
            return new StepOutput(perRow, exitLayer, gates);
        }
    }

    private int[] examplesOf(int[] rows) {
        int[] e = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            e[i] = example[rows[i]];
        }
        return e;
    }

    /** The entries the layers after {@code exitLayer} get for the rows that exited there. */
    private void fillSkipped(NDManager tmp, int exitLayer, int[] rows, NDArray exitState, NDArray[] qkv, int[] exited,
            boolean all, List<List<Group>> fills) {
        if (kvPolicy == KvPolicy.OMIT || exitLayer == layers - 1) {
            return;
        }
        NDArray copyK = null;
        NDArray copyV = null;
        if (kvPolicy == KvPolicy.COPY) {
            copyK = all ? qkv[1] : PtHost.rows(tmp, qkv[1], exited);
            copyV = all ? qkv[2] : PtHost.rows(tmp, qkv[2], exited);
        }
        for (int j = exitLayer + 1; j < layers; j++) {
            if (kvPolicy == KvPolicy.COPY) {
                fills.get(j).add(new Group(rows, copyK, copyV));
            } else {
                NDArray[] kv = ops.selfKv(p.decoder[j], exitState);
                fills.get(j).add(new Group(rows, kv[0], kv[1]));
            }
        }
    }

    /** Appends this position's entries of layer {@code l} (rows without one get a masked hole). */
    private void append(NDManager tmp, int l, List<Group> groups) {
        int n = example.length;
        NDArray[] kv = assemble(tmp, groups, n, true);
        boolean[] has = present[l];
        for (Group g : groups) {
            for (int r : g.rows()) {
                has[r * maxPositions + pos] = true;
            }
        }
        keys[l] = extend(keys[l], kv[0]);
        values[l] = extend(values[l], kv[1]);
    }

    /** {@code old} with {@code slot} appended along the position axis, owned by this stepper. */
    private NDArray extend(NDArray old, NDArray slot) {
        NDArray next = old == null ? slot.duplicate() : old.concat(slot, 1);
        next.attach(manager);
        if (old != null) {
            old.close();
        }
        return next;
    }

    /**
     * One tensor {@code [n, 1, d]} (keys and values, or, with {@code withValues} false, the
     * groups' {@code k}) with row r taken from the group that has it, zeros where none does.
     */
    private NDArray[] assemble(NDManager tmp, List<Group> groups, int n, boolean withValues) {
        if (groups.size() == 1 && groups.get(0).rows().length == n && isIdentity(groups.get(0).rows())) {
            return new NDArray[] {groups.get(0).k(), groups.get(0).v()};
        }
        int[] where = new int[n];
        Arrays.fill(where, -1);
        NDList ks = new NDList();
        NDList vs = new NDList();
        int at = 0;
        for (Group g : groups) {
            for (int i = 0; i < g.rows().length; i++) {
                where[g.rows()[i]] = at + i;
            }
            at += g.rows().length;
            ks.add(g.k());
            if (withValues) {
                vs.add(g.v());
            }
        }
        if (at < n) {
            ks.add(tmp.zeros(new Shape(1, 1, d)));
            if (withValues) {
                vs.add(tmp.zeros(new Shape(1, 1, d)));
            }
            for (int r = 0; r < n; r++) {
                if (where[r] < 0) {
                    where[r] = at;
                }
            }
        }
        NDArray idx = tmp.create(PtHost.longs(where));
        NDArray k = (ks.size() == 1 ? ks.get(0) : NDArrays.concat(ks)).get(tmp, new NDIndex("{}", idx));
        NDArray v = withValues ? (vs.size() == 1 ? vs.get(0) : NDArrays.concat(vs)).get(tmp, new NDIndex("{}", idx))
                : null;
        return new NDArray[] {k, v};
    }

    private static boolean isIdentity(int[] rows) {
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] != i) {
                return false;
            }
        }
        return true;
    }

    /** The additive mask {@code [A, 1, 1, pos + 1]} over the holes of layer {@code l}, or null if none. */
    private NDArray holes(NDManager tmp, int l, int[] active) {
        if (kvPolicy != KvPolicy.OMIT) {
            return null;
        }
        int w = pos + 1;
        float[] mask = new float[active.length * w];
        boolean any = false;
        boolean[] has = present[l];
        for (int a = 0; a < active.length; a++) {
            for (int j = 0; j < w; j++) {
                if (!has[active[a] * maxPositions + j]) {
                    mask[a * w + j] = Float.NEGATIVE_INFINITY;
                    any = true;
                }
            }
        }
        return any ? tmp.create(mask, new Shape(active.length, 1, 1, w)) : null;
    }

    @Override
    public void reorder(int[] parents) {
        check();
        int n = example.length;
        for (int pr : parents) {
            if (pr < 0 || pr >= n) {
                throw new InvalidInputException("reorder parent " + pr + " outside 0.." + (n - 1));
            }
        }
        int[] nextExample = new int[parents.length];
        for (int r = 0; r < parents.length; r++) {
            nextExample[r] = example[parents[r]];
        }
        for (int l = 0; l < layers; l++) {
            boolean[] has = new boolean[parents.length * maxPositions];
            for (int r = 0; r < parents.length; r++) {
                System.arraycopy(present[l], parents[r] * maxPositions, has, r * maxPositions, maxPositions);
            }
            present[l] = has;
            if (keys[l] != null) {
                keys[l] = reindex(keys[l], parents);
                values[l] = reindex(values[l], parents);
            }
        }
        example = nextExample;
    }

    private NDArray reindex(NDArray old, int[] parents) {
        NDArray next;
        try (NDManager tmp = manager.newSubManager()) {
            next = old.get(manager, new NDIndex("{}", tmp.create(PtHost.longs(parents))));
        }
        old.close();
        return next;
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("decoder stepper is closed");
        }
        exec.checkOpen();
        enc.check();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }
}
