package dev.mue.api.spi;

import java.util.Map;

/**
 * Options for creating a backend.
 *
 * @param threads    worker threads for a backend that owns a pool; 0 means one per available core
 * @param device     requested device, e.g. {@code cpu} or {@code cuda:0}; empty for the backend's default
 * @param properties backend-specific settings
 */
public record BackendOptions(int threads, String device, Map<String, String> properties) {
    /** Validates and copies. */
    public BackendOptions {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
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
