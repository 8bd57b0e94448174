package dev.mue.backend.java;

/**
 * The Java backend's decoder caches: per row and decoder layer, the self-attention keys and values
 * of the positions that layer holds, in the order they were appended (positions ascending).
 *
 * <p>Entries are immutable and each layer's history is a persistent list: an append links a new
 * entry to the previous head, so rows that branch from one beam share every entry they had in
 * common. A {@linkplain #reorder reorder} therefore copies one head reference per layer for each
 * duplicated row and never a key or a value, and a {@code COPY} fill links the source layer's
 * arrays instead of copying them.
 */
final class JvCaches {

    /** One position's key and value at one layer, with the entries before it. */
    record Entry(int position, float[] k, float[] v, Entry previous, int count) {
    }

    /** One row's caches: the newest entry per layer (1-based; slot 0 unused), null while empty. */
    static final class Row {
        private final Entry[] heads;

        Row(int decoderLayers) {
            heads = new Entry[decoderLayers + 1];
        }

        private Row(Entry[] heads) {
            this.heads = heads;
        }

        /** Entries layer {@code layer} holds. */
        int count(int layer) {
            Entry e = heads[layer];
            return e == null ? 0 : e.count();
        }

        /** The newest entry of layer {@code layer}, or null. */
        Entry head(int layer) {
            return heads[layer];
        }

        /** The entry layer {@code layer} holds for {@code position}, or null. */
        Entry find(int layer, int position) {
            for (Entry e = heads[layer]; e != null; e = e.previous()) {
                if (e.position() == position) {
                    return e;
                }
            }
            return null;
        }

        /** Appends to layer {@code layer}; {@code k} and {@code v} must not be modified afterwards. */
        void append(int layer, int position, float[] k, float[] v, int capacity) {
            int n = count(layer);
            if (n >= capacity) {
                throw new IllegalStateException("decoder layer " + layer + " already holds " + capacity
                        + " positions, its capacity");
            }
            heads[layer] = new Entry(position, k, v, heads[layer], n + 1);
        }

        /** A row that continues this one independently: the same entries, shared. */
        Row branch() {
            return new Row(heads.clone());
        }
    }

    final Row[] rows;
    final int capacity;

    JvCaches(Row[] rows, int capacity) {
        this.rows = rows;
        this.capacity = capacity;
    }

    /**
     * The caches re-formed: new row {@code r} continues old row {@code parents[r]}; the first child
     * of a row takes it over, later ones branch from it (nothing has appended to it yet, so every
     * child sees the same entries).
     */
    JvCaches reorder(int[] parents) {
        boolean[] used = new boolean[rows.length];
        Row[] next = new Row[parents.length];
        for (int r = 0; r < parents.length; r++) {
            int pr = parents[r];
            next[r] = used[pr] ? rows[pr].branch() : rows[pr];
            used[pr] = true;
        }
        return new JvCaches(next, capacity);
    }
}
