package dev.mue.backend.java.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The backend's parallel loops: every index exactly once, failures rethrown, no deadlock when nested. */
class JvParallelTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void everyIndexRunsExactlyOnce(int threads) throws Exception {
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            JvParallel parallel = new JvParallel(pool);
            assertEquals(threads, parallel.threads());
            for (int n : new int[] {0, 1, 2, 7, 1000}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(n, 1));
                for (int rep = 0; rep < 20; rep++) {
                    parallel.forEach(n, i -> runs.incrementAndGet(i));
                }
                for (int i = 0; i < n; i++) {
                    assertEquals(20, runs.get(i), "index " + i + " of " + n);
                }
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void loopsRunOnSeveralThreadsIncludingTheCaller() throws Exception {
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            // Slow bodies, so that the helper has started before the caller has claimed everything.
            new JvParallel(pool).forEach(200, i -> {
                seen.add(Thread.currentThread());
                sleepMillis(1);
            });
            assertTrue(seen.contains(Thread.currentThread()), "the caller works too");
            assertEquals(2, seen.size(), "caller and one pool thread: " + seen);
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void loopsStartedBySeveralThreadsAtOnceEachFinish() throws Exception {
        ForkJoinPool pool = new ForkJoinPool(2);
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            JvParallel parallel = new JvParallel(pool);
            List<Future<?>> done = new ArrayList<>();
            AtomicIntegerArray runs = new AtomicIntegerArray(4 * 300);
            for (int c = 0; c < 4; c++) {
                int caller = c;
                done.add(callers.submit(() -> {
                    for (int loop = 0; loop < 300; loop++) {
                        int slot = caller * 300 + loop;
                        // Loops of a few microseconds, so that helpers are often waiting between them.
                        parallel.forEach(3 + loop % 5, i -> runs.incrementAndGet(slot));
                    }
                }));
            }
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                for (Future<?> f : done) {
                    f.get();
                }
            });
            for (int slot = 0; slot < runs.length(); slot++) {
                assertEquals(3 + slot % 300 % 5, runs.get(slot), "loop " + slot);
            }
        } finally {
            callers.shutdownNow();
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void nestedLoopsFromInsideThePoolFinish() throws Exception {
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            JvParallel parallel = new JvParallel(pool);
            AtomicIntegerArray runs = new AtomicIntegerArray(16 * 16);
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> parallel.forEach(16,
                    i -> parallel.forEach(16, j -> runs.incrementAndGet(i * 16 + j))));
            for (int i = 0; i < runs.length(); i++) {
                assertEquals(1, runs.get(i));
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theFirstFailureIsRethrownAsIs() throws Exception {
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            JvParallel parallel = new JvParallel(pool);
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            assertSame(boom, assertThrows(IllegalArgumentException.class, () -> parallel.forEach(100, i -> {
                if (i == 37) {
                    throw boom;
                }
            })));
            AssertionError error = new AssertionError("bad");
            assertSame(error, assertThrows(AssertionError.class, () -> parallel.forEach(100, i -> {
                throw error;
            })));
            // The pool is still usable afterwards.
            AtomicIntegerArray runs = new AtomicIntegerArray(50);
            parallel.forEach(50, runs::incrementAndGet);
            for (int i = 0; i < 50; i++) {
                assertEquals(1, runs.get(i));
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void withoutAPoolOrWithAShutDownPoolTheCallerRunsEverything() throws Exception {
        ForkJoinPool pool = new ForkJoinPool(2);
        pool.shutdown();
        pool.awaitTermination(10, TimeUnit.SECONDS);
        for (JvParallel parallel : new JvParallel[] {new JvParallel(null), new JvParallel(pool)}) {
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            AtomicIntegerArray runs = new AtomicIntegerArray(100);
            parallel.forEach(100, i -> {
                seen.add(Thread.currentThread());
                runs.incrementAndGet(i);
            });
            assertEquals(Set.of(Thread.currentThread()), seen);
            for (int i = 0; i < 100; i++) {
                assertEquals(1, runs.get(i));
            }
        }
        assertEquals(1, new JvParallel(null).threads());
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
