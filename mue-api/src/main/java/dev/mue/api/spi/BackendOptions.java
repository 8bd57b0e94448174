package dev.mue.api.spi;

import dev.mue.api.InvalidInputException;
import java.util.Map;

/**
 * Options for creating a backend.
 *
 * @param threads    worker threads for a backend that owns a pool; 0 means one per available core
 * @param device     requested device, e.g. {@code cpu} or {@code cuda:0}; empty for the backend's default
 * @param properties backend-specific settings
 */
public record BackendOptions(int threads, String device, Map<String, String> properties) {
    /**
     * Most worker threads accepted: far beyond any core count mue runs on, and well inside the
     * limits of the pools backends create (a {@code ForkJoinPool} refuses more than 32,767).
     */
    public static final int MAX_THREADS = 1024;

    /** Validates and copies; a thread count outside 0 to {@link #MAX_THREADS} is an {@link InvalidInputException}. */
    public BackendOptions {
        if (threads < 0 || threads > MAX_THREADS) {
            throw new InvalidInputException("threads must be 0 (one per core) to " + MAX_THREADS + ", got " + threads);
        }
        device = device == null ? "" : device;
        properties = Map.copyOf(properties);
    }

    /** Defaults: a thread per core, the backend's default device. */
    public static BackendOptions defaults() {
        return new BackendOptions(0, "", Map.of());
    }

    /** The thread count to use: {@link #threads()} or the number of available processors. */
    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /** The same options with another thread count. */
    public BackendOptions withThreads(int n) {
        return new BackendOptions(n, device, properties);
    }
}
