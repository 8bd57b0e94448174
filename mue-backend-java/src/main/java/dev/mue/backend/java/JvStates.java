package dev.mue.backend.java;

/**
 * The Java backend's states: segments packed without padding, segment {@code s} being rows
 * {@code [offset(s), offset(s) + length(s))} of {@code data} ({@code [rows, d]} row-major).
 *
 * @param data    the packed rows
 * @param lengths per segment, its tokens
 * @param offsets per segment, its first row
 * @param rows    total rows
 */
record JvStates(float[] data, int[] lengths, int[] offsets, int rows) {

    /** States over {@code data} with the given segment lengths. */
    static JvStates of(float[] data, int[] lengths) {
        int[] off = new int[lengths.length];
        int r = 0;
        for (int s = 0; s < lengths.length; s++) {
            off[s] = r;
            r += lengths[s];
        }
        return new JvStates(data, lengths, off, r);
    }

    /** Packs one array per segment ({@code [tokens, d]} each). */
    static JvStates pack(float[][] parts, int[] lengths, int d) {
        JvStates s = of(null, lengths);
        float[] data = new float[s.rows() * d];
        for (int i = 0; i < parts.length; i++) {
            System.arraycopy(parts[i], 0, data, s.offsets()[i] * d, lengths[i] * d);
        }
        return new JvStates(data, lengths, s.offsets(), s.rows());
    }

    /** Number of segments. */
    int segments() {
        return lengths.length;
    }
}
