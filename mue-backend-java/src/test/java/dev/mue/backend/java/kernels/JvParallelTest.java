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
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The backend's parallel loops: every index exactly once, failures rethrown, no deadlock when nested. */
class JvParallelTest {
    /** A pool of two, as on the project's 2-core machines; tests of other sizes make their own. */
    private ForkJoinPool pool;

    @BeforeEach
    void startPool() {
        pool = new ForkJoinPool(2);
    }

    @AfterEach
    void stopPool() throws InterruptedException {
        stop(pool);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void everyIndexRunsExactlyOnce(int threads) throws Exception {
        ForkJoinPool sized = new ForkJoinPool(threads);
        try {
            JvParallel parallel = new JvParallel(sized);
            assertEquals(threads, parallel.threads());
            for (int n : new int[] {0, 1, 2, 7, 1000}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(n);
                for (int rep = 0; rep < 20; rep++) {
                    parallel.forEach(n, runs::incrementAndGet);
                }
                assertCounts(runs, i -> 20);
            }
        } finally {
            stop(sized);
        }
    }

    @Test
    void everyLoopRunsOnTheCallerAndAHelperAlsoWhenTheHelperWasWaiting() {
        JvParallel parallel = new JvParallel(pool);
        // Loops back to back: from the second on, the helper is usually waiting for the loop (handed
        // over, no pool wake-up), and a loop handed to a helper must still get its help.
        for (int loop = 0; loop < 5; loop++) {
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            // Slow bodies, so that the helper has joined before the caller has claimed everything.
            parallel.forEach(100, i -> {
                seen.add(Thread.currentThread());
                sleepMillis(1);
            });
            assertTrue(seen.contains(Thread.currentThread()), "the caller works too");
            assertEquals(2, seen.size(), "loop " + loop + ": caller and one pool thread: " + seen);
        }
    }

    @Test
    void loopsStartedBySeveralThreadsAtOnceEachFinish() {
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
            assertCounts(runs, slot -> 3 + slot % 300 % 5);
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void nestedLoopsFromInsideThePoolFinish() {
        JvParallel parallel = new JvParallel(pool);
        AtomicIntegerArray runs = new AtomicIntegerArray(16 * 16);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> parallel.forEach(16,
                i -> parallel.forEach(16, j -> runs.incrementAndGet(i * 16 + j))));
        assertCounts(runs, i -> 1);
    }

    @Test
    void theFirstFailureIsRethrownAsIs() {
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
        assertCounts(runs, i -> 1);
    }

    @Test
    void withoutAPoolOrWithAShutDownPoolTheCallerRunsEverything() throws Exception {
        stop(pool);
        for (JvParallel parallel : new JvParallel[] {new JvParallel(null), new JvParallel(pool)}) {
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            AtomicIntegerArray runs = new AtomicIntegerArray(100);
            parallel.forEach(100, i -> {
                seen.add(Thread.currentThread());
                runs.incrementAndGet(i);
            });
            assertEquals(Set.of(Thread.currentThread()), seen);
            assertCounts(runs, i -> 1);
        }
        assertEquals(1, new JvParallel(null).threads());
    }

    /** Asserts that index {@code i} of {@code runs} ran {@code expected(i)} times. */
    private static void assertCounts(AtomicIntegerArray runs, IntUnaryOperator expected) {
        for (int i = 0; i < runs.length(); i++) {
            assertEquals(expected.applyAsInt(i), runs.get(i), "index " + i + " of " + runs.length());
        }
    }

    private static void stop(ForkJoinPool p) throws InterruptedException {
        p.shutdownNow();
        assertTrue(p.awaitTermination(10, TimeUnit.SECONDS), "pool threads went back");
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
