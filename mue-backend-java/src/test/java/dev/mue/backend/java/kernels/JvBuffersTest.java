package dev.mue.backend.java.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The recycled arrays: reuse by exact length, the byte budget, the size floor, poisoning, concurrency. */
class JvBuffersTest {
    @Test
    void anArrayGivenBackIsTakenAgainOnlyForItsExactLength() {
        JvBuffers b = new JvBuffers(1 << 20, 16, false);
        float[] a = b.take(100);
        a[7] = 3f;
        b.give(a);
        assertEquals(400, b.keptBytes());
        assertNotSame(a, b.take(101), "another length never gets it");
        float[] again = b.take(100);
        assertSame(a, again);
        assertEquals(3f, again[7], "contents are left as they were (callers overwrite)");
        assertEquals(0, b.keptBytes());
        assertNotSame(a, b.take(100), "taken once, gone from the pool");
    }

    @Test
    void theBudgetBoundsWhatIsKeptAndSmallArraysAreNeverKept() {
        JvBuffers b = new JvBuffers(1000, 16, false);
        float[] first = new float[200];
        float[] second = new float[200];
        b.give(first);
        b.give(second); // 1600 bytes would exceed the budget: dropped
        assertEquals(800, b.keptBytes());
        assertSame(first, b.take(200));
        assertNotSame(second, b.take(200));
        float[] small = new float[15];
        b.give(small);
        assertEquals(0, b.keptBytes());
        assertNotSame(small, b.take(15));
        b.give(null);
        assertThrows(IllegalArgumentException.class, () -> new JvBuffers(-1, 16, false));
        assertThrows(IllegalArgumentException.class, () -> new JvBuffers(10, 0, false));
    }

    @Test
    void poisoningFillsEveryArrayTakenWithNaN() {
        JvBuffers b = new JvBuffers(1 << 20, 1, true);
        float[] fresh = b.take(10);
        for (float v : fresh) {
            assertTrue(Float.isNaN(v));
        }
        java.util.Arrays.fill(fresh, 1f);
        b.give(fresh);
        float[] reused = b.take(10);
        assertSame(fresh, reused);
        for (float v : reused) {
            assertTrue(Float.isNaN(v));
        }
    }

    @Test
    void concurrentTakersNeverShareAnArray() throws Exception {
        JvBuffers b = new JvBuffers(1 << 24, 1, false);
        Set<float[]> inUse = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                jobs.add(pool.submit(() -> {
                    for (int i = 0; i < 2000; i++) {
                        float[] a = b.take(64 + i % 3);
                        if (!inUse.add(a)) {
                            throw new AssertionError("an array was handed to two takers");
                        }
                        inUse.remove(a);
                        b.give(a);
                    }
                    return null;
                }));
            }
            for (Future<?> f : jobs) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(b.keptBytes() <= 4L * 4 * 3 * 66, "at most one array per taker and length is free: " + b.keptBytes());
    }
}
