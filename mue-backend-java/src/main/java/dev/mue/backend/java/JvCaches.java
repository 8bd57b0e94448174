package dev.mue.backend.java;

/**
 * The Java backend's decoder caches: per row and decoder layer, the self-attention keys and values
 * of the positions that layer holds, in the order they were appended (positions ascending).
 */
final class JvCaches {

    /** One layer's cache of one row. */
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

        private LayerCache(LayerCache o) {
            k = o.k.clone();
            v = o.v.clone();
            positions = o.positions.clone();
            n = o.n;
        }

        void append(int pos, float[] kk, int kOff, float[] vv, int vOff, int d) {
            System.arraycopy(kk, kOff, k, n * d, d);
            System.arraycopy(vv, vOff, v, n * d, d);
            positions[n++] = pos;
        }

        /** The index of the entry for {@code pos}, or -1. */
        int indexOf(int pos) {
            for (int i = n - 1; i >= 0; i--) {
                if (positions[i] == pos) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** One row's caches, indexed by layer (1-based; slot 0 unused). */
    static final class Row {
        final LayerCache[] layers;

        Row(int decoderLayers, int capacity, int d) {
            layers = new LayerCache[decoderLayers + 1];
            for (int l = 1; l <= decoderLayers; l++) {
                layers[l] = new LayerCache(capacity, d);
            }
        }

        private Row(Row o) {
            layers = new LayerCache[o.layers.length];
            for (int l = 1; l < layers.length; l++) {
                layers[l] = new LayerCache(o.layers[l]);
            }
        }

        Row copy() {
            return new Row(this);
        }
    }

    final Row[] rows;

    JvCaches(Row[] rows) {
        this.rows = rows;
    }
}
