package dev.mue.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The PyTorch backend's decoder caches. Every row advances one position per step, so each layer
 * keeps one key tensor and one value tensor {@code [rows, positions, d]} for all rows, and on the
 * host which (row, position) entries a layer really holds; a row with no entry at a position (a
 * skipped layer that was given none) has a hole there, masked in attention. The entries of the
 * position being decoded arrive in groups (the rows that ran the layer, the rows whose skipped layer
 * was filled) and are committed as one slot when the next position starts or the rows are re-formed.
 */
final class PtCaches {
    /** Rows of the current position and their keys and values {@code [rows, 1, d]}, owned by {@link #manager}. */
    record Group(int[] rows, NDArray k, NDArray v) {
    }

    final NDManager manager;
    private final int layers;
    private final int capacity;
    private final int d;
    private int rows;
    /** Positions committed: every layer's tensors are {@code [rows, committed, d]}. */
    private int committed;
    private final NDArray[] keys;
    private final NDArray[] values;
    /** Per layer, whether row r has an entry at position j: {@code [r * capacity + j]}. */
    private boolean[][] present;
    private final List<List<Group>> pending = new ArrayList<>();

    PtCaches(NDManager manager, int layers, int rows, int capacity, int d) {
        this.manager = manager;
        this.layers = layers;
        this.rows = rows;
        this.capacity = capacity;
        this.d = d;
        this.keys = new NDArray[layers + 1];
        this.values = new NDArray[layers + 1];
        this.present = new boolean[layers + 1][rows * capacity];
        for (int l = 0; l <= layers; l++) {
            pending.add(new ArrayList<>());
        }
    }

    /** Makes {@code position} the current one, committing the previous position's entries. */
    void startPosition(int position) {
        if (position == committed + 1) {
            commit();
        }
        if (position != committed) {
            throw new IllegalStateException("decoder caches are at position " + committed + ", not " + position);
        }
    }

    /** Adds entries of the current position to layer {@code layer}, taking ownership of the tensors. */
    void add(int layer, int[] rowIds, NDArray k, NDArray v) {
        k.attach(manager);
        v.attach(manager);
        pending.get(layer).add(new Group(rowIds.clone(), k, v));
        for (int r : rowIds) {
            present[layer][r * capacity + committed] = true;
        }
    }

    /** The current position's entries of {@code layer} for {@code rowIds}, {@code [n, 1, d]} each, in {@code m}. */
    NDArray[] current(NDManager m, int layer, int[] rowIds) {
        int[] where = new int[rows];
        Arrays.fill(where, -1);
        NDList ks = new NDList();
        NDList vs = new NDList();
        int at = 0;
        for (Group g : pending.get(layer)) {
            for (int i = 0; i < g.rows().length; i++) {
                where[g.rows()[i]] = at + i;
            }
            at += g.rows().length;
            ks.add(g.k());
            vs.add(g.v());
        }
        long[] idx = new long[rowIds.length];
        for (int i = 0; i < rowIds.length; i++) {
            if (where[rowIds[i]] < 0) {
                throw new IllegalStateException("decoder layer " + layer + " holds no entry of row " + rowIds[i]
                        + " at position " + committed);
            }
            idx[i] = where[rowIds[i]];
        }
        NDArray allK = ks.size() == 1 ? ks.get(0) : NDArrays.concat(ks);
        NDArray allV = vs.size() == 1 ? vs.get(0) : NDArrays.concat(vs);
        NDArray index = m.create(idx);
        return new NDArray[] {allK.get(m, new NDIndex("{}", index)), allV.get(m, new NDIndex("{}", index))};
    }

    /** The committed keys and values of {@code layer} for {@code rowIds}, {@code [n, committed, d]}, or null at position 0. */
    NDArray[] past(NDManager m, int layer, int[] rowIds) {
        if (committed == 0) {
            return null;
        }
        if (rowIds.length == rows && identity(rowIds)) {
            return new NDArray[] {keys[layer], values[layer]};
        }
        NDArray index = m.create(PtHost.longs(rowIds));
        return new NDArray[] {keys[layer].get(m, new NDIndex("{}", index)), values[layer].get(m, new NDIndex("{}", index))};
    }

    /**
     * The additive mask {@code [n, 1, 1, committed + 1]} over the positions {@code layer} lacks for
     * {@code rowIds} (the current position included), or null when there is no hole.
     */
    NDArray holes(NDManager m, int layer, int[] rowIds) {
        int w = committed + 1;
        float[] mask = new float[rowIds.length * w];
        boolean any = false;
        boolean[] has = present[layer];
        for (int a = 0; a < rowIds.length; a++) {
            for (int j = 0; j < w; j++) {
                if (!has[rowIds[a] * capacity + j]) {
                    mask[a * w + j] = Float.NEGATIVE_INFINITY;
                    any = true;
                }
            }
        }
        return any ? m.create(mask, new Shape(rowIds.length, 1, 1, w)) : null;
    }

    /** Appends the current position's slot to every layer (zeros where a row has no entry). */
    private void commit() {
        for (int l = 1; l <= layers; l++) {
            NDArray[] slot = slot(l);
            keys[l] = extend(keys[l], slot[0]);
            values[l] = extend(values[l], slot[1]);
            for (Group g : pending.get(l)) {
                g.k().close();
                g.v().close();
            }
            pending.get(l).clear();
        }
        committed++;
    }

    private NDArray[] slot(int layer) {
        int[] all = new int[rows];
        List<Integer> missing = new ArrayList<>();
        boolean[] has = present[layer];
        for (int r = 0; r < rows; r++) {
            all[r] = r;
            if (!has[r * capacity + committed]) {
                missing.add(r);
            }
        }
        if (missing.size() == rows) {
            return new NDArray[] {manager.zeros(new Shape(rows, 1, d)), manager.zeros(new Shape(rows, 1, d))};
        }
        if (!missing.isEmpty()) {
            int[] holes = missing.stream().mapToInt(Integer::intValue).toArray();
            NDArray z = manager.zeros(new Shape(holes.length, 1, d));
            pending.get(layer).add(new Group(holes, z, z.duplicate()));
        }
        return current(manager, layer, all);
    }

    private NDArray extend(NDArray old, NDArray slot) {
        NDArray next = old == null ? slot.duplicate() : old.concat(slot, 1);
        next.attach(manager);
        if (old != null) {
            old.close();
        }
        slot.close();
        return next;
    }

    /** Re-forms the rows: new row {@code r} continues old row {@code parents[r]}. */
    void reorder(int[] parents) {
        boolean pendingAny = pending.stream().anyMatch(g -> !g.isEmpty());
        if (pendingAny) {
            commit();
        }
        for (int l = 1; l <= layers; l++) {
            boolean[] has = new boolean[parents.length * capacity];
            for (int r = 0; r < parents.length; r++) {
                System.arraycopy(present[l], parents[r] * capacity, has, r * capacity, capacity);
            }
            present[l] = has;
            if (keys[l] != null) {
                keys[l] = reindex(keys[l], parents);
                values[l] = reindex(values[l], parents);
            }
        }
        rows = parents.length;
    }

    private NDArray reindex(NDArray old, int[] parents) {
        NDArray next;
        try (NDManager tmp = manager.newSubManager()) {
            next = old.get(manager, new NDIndex("{}", tmp.create(PtHost.longs(parents))));
        }
        old.close();
        return next;
    }

    private static boolean identity(int[] rows) {
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] != i) {
                return false;
            }
        }
        return true;
    }
}
