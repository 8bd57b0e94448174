package dev.mue.benchmarks;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/** The thread pools the kernel benchmarks own: shut down at trial end, and a hang is an error. */
public final class Pools {
    private Pools() {
    }

    /**
     * Shuts {@code pool} down and waits for it.
     *
     * @throws IllegalStateException if it has not stopped after 10 seconds
     */
    public static void close(ForkJoinPool pool) throws InterruptedException {
        pool.shutdown();
        if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("benchmark pool did not stop");
        }
    }
}
