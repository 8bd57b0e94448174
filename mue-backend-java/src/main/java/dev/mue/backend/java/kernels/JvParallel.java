package dev.mue.backend.java.kernels;

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
 * cannot deadlock), and it does not hand the whole loop to the pool and park: each loop costs at
 * most one helper wake-up, not a submit, a fork per split and the caller's own wake-up at the end.
 *
 * <p>Immutable and thread-safe; the pool is the caller's and is never shut down here.
 */
public final class JvParallel {
    private final ForkJoinPool pool;

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
                pool.execute(job);
            }
        } catch (RejectedExecutionException e) {
            // A pool that is shutting down leaves the work to the calling thread.
        }
        job.run();
        job.awaitAndRethrow();
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
