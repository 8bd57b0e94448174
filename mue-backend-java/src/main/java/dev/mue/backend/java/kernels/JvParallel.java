package dev.mue.backend.java.kernels;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The Java backend's parallel loops: the calling thread works together with up to
 * {@code parallelism - 1} threads of a caller-owned {@link ForkJoinPool}, all claiming indices from
 * one counter. The caller never blocks waiting for a helper to start (a loop whose helpers are late
 * or busy, including one started from inside the pool, costs no more than running it alone, and
 * cannot deadlock), and it does not hand the whole loop to the pool and park.
 *
 * <p>A pass runs hundreds of loops of a millisecond or less, one after another with a little serial
 * work between them, and waking a parked pool thread takes tens of microseconds. So a helper that
 * has finished a loop waits for the next one, spinning, for up to {@value #SPIN_NANOS} ns before
 * it goes back to the pool; a loop takes waiting helpers first (each is handed the loop directly,
 * so loops started by several threads at once never share one) and wakes pool threads only for the
 * rest.
 *
 * <p>Thread-safe. The pool is the caller's and is never shut down here; its threads go back to it
 * at most {@value #SPIN_NANOS} ns after the last loop.
 */
public final class JvParallel {
    /**
     * How long a helper waits for the next loop, spinning, before going back to the pool: several
     * times the gap between consecutive loops of a pass, a few times a pool thread's wake-up.
     */
    static final long SPIN_NANOS = 100_000;

    private final ForkJoinPool pool;
    /** Helpers waiting for a loop, the most recent first. */
    private final ConcurrentLinkedDeque<Helper> waiting = new ConcurrentLinkedDeque<>();

    /**
     * Loops on the calling thread and {@code pool}'s threads.
     *
     * @param pool the caller's pool, or null to run every loop on the calling thread
     */
    public JvParallel(ForkJoinPool pool) {
        this.pool = pool;
    }

    /** How many threads a loop runs on: the pool's parallelism, or 1 without a pool. */
    public int threads() {
        return pool == null ? 1 : pool.getParallelism();
    }

    /**
     * Runs {@code body} for {@code 0..n-1} and returns when every index has run; the first failure
     * is rethrown (a {@link RuntimeException} or {@link Error} as is, anything else wrapped), and
     * indices not yet started when a body fails are skipped.
     */
    public void forEach(int n, IntConsumer body) {
        if (pool == null || n <= 1 || pool.getParallelism() < 2) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        Job job = new Job(body, n);
        int helpers = Math.min(pool.getParallelism() - 1, n - 1);
        try {
            for (int h = 0; h < helpers; h++) {
                Helper w = waiting.pollFirst();
                if (w != null) {
                    w.hand(job);
                } else {
                    pool.execute(new Helper(job));
                }
            }
        } catch (RejectedExecutionException e) {
            // A pool that is shutting down leaves the work to the calling thread.
        }
        job.run();
        job.awaitAndRethrow();
    }

    /** A pool thread's turn as a helper: the loop it was started for, then those handed to it while it waits. */
    private final class Helper implements Runnable {
        /** The loop to run next: the one it was started for, then each handed to it while it waits. */
        private final AtomicReference<Job> handed;

        Helper(Job first) {
            this.handed = new AtomicReference<>(first);
        }

        /** Gives this waiting helper its next loop (called by the loop's thread, which took it from the queue). */
        void hand(Job job) {
            handed.set(job);
        }

        @Override
        public void run() {
            Job job = handed.getAndSet(null);
            while (job != null) {
                job.run();
                job = await();
            }
        }

        /** The next loop handed to this helper, waited for up to {@link #SPIN_NANOS}; null if none came. */
        private Job await() {
            waiting.addFirst(this);
            long deadline = System.nanoTime() + SPIN_NANOS;
            while (System.nanoTime() < deadline) {
                Job job = handed.getAndSet(null);
                if (job != null) {
                    return job;
                }
                Thread.onSpinWait();
            }
            if (waiting.remove(this)) {
                return null;
            }
            // A loop took this helper from the queue and is about to hand it over.
            Job job;
            while ((job = handed.getAndSet(null)) == null) {
                Thread.onSpinWait();
            }
            return job;
        }
    }

    /** One loop: its indices, claimed from a shared counter, and the count of those finished. */
    private static final class Job implements Runnable {
        private final IntConsumer body;
        private final int n;
        private final Thread caller = Thread.currentThread();
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(IntConsumer body, int n) {
            this.body = body;
            this.n = n;
        }

        @Override
        public void run() {
            for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                try {
                    if (failure.get() == null) {
                        body.accept(i);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == n) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }

        /** Waits for the indices other threads are still running, then rethrows the first failure. */
        void awaitAndRethrow() {
            while (done.get() < n) {
                LockSupport.park(this);
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }
}
