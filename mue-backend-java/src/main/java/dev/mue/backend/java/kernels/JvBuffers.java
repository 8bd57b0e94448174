package dev.mue.backend.java.kernels;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Large float arrays recycled between the operations of a pass and between passes: an ofa-base
 * pass at 480 px otherwise allocates (and the JVM zeroes) about 770 MB of short-lived feature maps
 * and layer temporaries. Arrays are kept by exact length, up to a byte budget, and handed out
 * <em>with stale contents</em>: whoever takes one must write every element before reading it.
 * Only arrays whose last reader is known are given back (internal temporaries, never a state the
 * runtime holds). Thread-safe; concurrent passes each get their own arrays. One pool serves a
 * backend: its kernels (the zero-bordered copies a padded convolution reads) and its layer
 * operations.
 *
 * <p>With the system property {@value #POISON_PROPERTY} set to {@code true} (the backend's own
 * tests and the TCK run so), arrays of every length are recycled and every array taken is filled
 * with NaN first, so that a consumer that reads an element it did not write, or an array given
 * back while still in use, makes results wrong and tests fail instead of silently reading another
 * operation's data.
 */
public final class JvBuffers {
    /** System property that fills every array taken with NaN (for tests). */
    public static final String POISON_PROPERTY = "mue.java.poisonBuffers";
    /** Arrays shorter than this are allocated (cheaply, in the thread's TLAB) and never kept. */
    public static final int MIN_LENGTH = 1 << 16;

    private final ConcurrentHashMap<Integer, ConcurrentLinkedDeque<float[]>> free = new ConcurrentHashMap<>();
    private final AtomicLong keptBytes = new AtomicLong();
    private final long budgetBytes;
    private final int minLength;
    private final boolean poison;

    /**
     * A pool that keeps at most {@code budgetBytes} of free arrays of at least {@code minLength}
     * floats, and fills every array taken with NaN when {@code poison}.
     */
    public JvBuffers(long budgetBytes, int minLength, boolean poison) {
        if (budgetBytes < 0 || minLength < 1) {
            throw new IllegalArgumentException("budget must be >= 0 and minimum length >= 1: " + budgetBytes + ", "
                    + minLength);
        }
        this.budgetBytes = budgetBytes;
        this.minLength = minLength;
        this.poison = poison;
    }

    /** A pool that keeps nothing: every array taken is new (zeroed, or NaN when poisoning). */
    public static JvBuffers none() {
        return new JvBuffers(0, MIN_LENGTH, Boolean.getBoolean(POISON_PROPERTY));
    }

    /**
     * The backend's pool: a budget of an eighth of the maximum heap, at most 1 GiB, arrays from
     * {@value #MIN_LENGTH} floats; poisoned, and all lengths, under {@value #POISON_PROPERTY}.
     */
    public static JvBuffers forHeap() {
        boolean poison = Boolean.getBoolean(POISON_PROPERTY);
        return new JvBuffers(Math.min(1L << 30, Runtime.getRuntime().maxMemory() / 8), poison ? 1 : MIN_LENGTH, poison);
    }

    /** An array of exactly {@code length} floats, with undefined contents (NaN when poisoning). */
    public float[] take(int length) {
        float[] a = null;
        if (length >= minLength) {
            ConcurrentLinkedDeque<float[]> q = free.get(length);
            a = q == null ? null : q.pollFirst();
            if (a != null) {
                keptBytes.addAndGet(-bytes(a));
            }
        }
        if (a == null) {
            a = new float[length];
        }
        if (poison) {
            Arrays.fill(a, Float.NaN);
        }
        return a;
    }

    /**
     * Gives {@code a} back for reuse; the caller must hold the only reference that will still be
     * used. Kept only while the budget allows; {@code null} is ignored.
     */
    public void give(float[] a) {
        if (a == null || a.length < minLength) {
            return;
        }
        long b = bytes(a);
        long now = keptBytes.addAndGet(b);
        if (now > budgetBytes) {
            keptBytes.addAndGet(-b);
            return;
        }
        free.computeIfAbsent(a.length, n -> new ConcurrentLinkedDeque<>()).addFirst(a);
    }

    /** Bytes held by free arrays now. */
    public long keptBytes() {
        return keptBytes.get();
    }

    private static long bytes(float[] a) {
        return 4L * a.length;
    }
}
