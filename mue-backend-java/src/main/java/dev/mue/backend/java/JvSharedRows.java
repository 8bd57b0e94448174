package dev.mue.backend.java;

import java.util.Arrays;

/**
 * The rows of a decoder pass that repeat an earlier segment's, so that each distinct row is
 * computed once. A decoder layer is causal: a row's output depends only on the rows of its segment
 * up to its own position, its example's encoder output and its position. So where segment {@code s}
 * begins with the same rows, bit for bit, as an earlier segment of the same example (visual
 * entailment scores every candidate answer after one shared prompt), those rows' outputs are the
 * earlier segment's, bit for bit too, since every kernel computes a row the same way whatever else
 * is in the call. Only each segment's remaining suffix, from {@link #from(int)}, is computed.
 */
final class JvSharedRows {
    /** Per segment, its first position that no earlier segment shares. */
    private final int[] from;
    /** Per segment, the index among the distinct rows of its row at {@link #from}. */
    private final int[] firstDistinct;
    /** Per row of the pass, the index of its distinct row. */
    private final int[] distinct;
    private final int count;

    private JvSharedRows(int[] from, int[] firstDistinct, int[] distinct, int count) {
        this.from = from;
        this.firstDistinct = firstDistinct;
        this.distinct = distinct;
        this.count = count;
    }

    /**
     * The shared prefixes of {@code x}'s segments ({@code examples[s]} the example of segment {@code
     * s}), each with the earlier segment of its example that shares the most rows; null when no
     * segment shares a row.
     */
    static JvSharedRows of(JvStates x, int[] examples, int d) {
        int n = x.segments();
        int[] off = x.offsets();
        int[] len = x.lengths();
        float[] data = x.data();
        int[] from = new int[n];
        int[] source = new int[n];
        boolean any = false;
        for (int s = 1; s < n; s++) {
            for (int e = 0; e < s; e++) {
                if (examples[e] != examples[s]) {
                    continue;
                }
                int common = 0;
                int most = Math.min(len[s], len[e]);
                while (common < most && Arrays.equals(data, (off[s] + common) * d, (off[s] + common + 1) * d, data,
                        (off[e] + common) * d, (off[e] + common + 1) * d)) {
                    common++;
                }
                if (common > from[s]) {
                    from[s] = common;
                    source[s] = e;
                }
            }
            any |= from[s] > 0;
        }
        if (!any) {
            return null;
        }
        int[] distinct = new int[x.rows()];
        int[] firstDistinct = new int[n];
        int count = 0;
        for (int s = 0; s < n; s++) {
            for (int t = 0; t < from[s]; t++) {
                distinct[off[s] + t] = distinct[off[source[s]] + t];
            }
            firstDistinct[s] = count;
            for (int t = from[s]; t < len[s]; t++) {
                distinct[off[s] + t] = count++;
            }
        }
        return new JvSharedRows(from, firstDistinct, distinct, count);
    }

    /** Segment {@code s}'s first position that no earlier segment shares. */
    int from(int s) {
        return from[s];
    }

    /** Per segment, its first position that no earlier segment shares. */
    int[] from() {
        return from.clone();
    }

    /** The index among the distinct rows of segment {@code s}'s row at {@link #from(int)}. */
    int firstDistinct(int s) {
        return firstDistinct[s];
    }

    /** How many distinct rows there are. */
    int count() {
        return count;
    }

    /** The distinct rows of {@code rows} (every row of the pass, {@code width} floats each), in order. */
    float[] distinctRows(float[] rows, JvStates x, int width) {
        float[] out = new float[count * width];
        for (int s = 0; s < from.length; s++) {
            int n = x.lengths()[s] - from[s];
            System.arraycopy(rows, (x.offsets()[s] + from[s]) * width, out, firstDistinct[s] * width, n * width);
        }
        return out;
    }

    /** Every row of the pass from the distinct rows ({@code width} floats each). */
    float[] allRows(float[] distinctRows, int width) {
        float[] out = new float[distinct.length * width];
        for (int r = 0; r < distinct.length; r++) {
            System.arraycopy(distinctRows, distinct[r] * width, out, r * width, width);
        }
        return out;
    }
}
