package dev.mue.runtime;

/**
 * The states of some members flowing along a plan edge: the members (examples, or decoder rows)
 * in ascending order, and how many consecutive segments of {@code x} each owns (1 for a stream or
 * a decoding row; an example's rows in a scoring pass).
 *
 * @param x        the backend's states
 * @param members  member ids, ascending
 * @param segments per member, its number of segments
 * @param <X>      the backend's state type
 */
record Part<X>(X x, int[] members, int[] segments) {

    /** A part of {@code n} members 0..n-1 with one segment each. */
    static <X> Part<X> all(X x, int n) {
        int[] m = new int[n];
        int[] s = new int[n];
        for (int i = 0; i < n; i++) {
            m[i] = i;
            s[i] = 1;
        }
        return new Part<>(x, m, s);
    }

    /** The same members with other states (a layer's output). */
    Part<X> with(X next) {
        return new Part<>(next, members, segments);
    }

    /** Per member, the end of its segments: the gate groups of {@link dev.mue.api.layer.LayerOps#measure}. */
    int[] groupEnds() {
        int[] ends = new int[members.length];
        int e = 0;
        for (int i = 0; i < members.length; i++) {
            e += segments[i];
            ends[i] = e;
        }
        return ends;
    }

    /** Number of members. */
    int size() {
        return members.length;
    }
}
