package dev.mue.serve;

/**
 * The server's address and limits.
 *
 * @param host              the address to listen on (127.0.0.1: this machine only)
 * @param port              the port; 0 picks a free one
 * @param maxBatch          most elements (images) in one batch, and in one request; 1 turns batching off
 * @param maxDelayMillis    longest a batch waits for more requests after its first arrived; with 0 a
 *                          batch is whatever waited while the previous batch ran (no added latency)
 * @param queueCapacity     most elements waiting per model; more are refused with 503
 * @param workers           batches of one model that may run at once
 * @param timeoutMillis     each inference request's deadline from its arrival; past it, 503
 * @param maxBodyBytes      the largest request body; larger ones get 413
 * @param maxTextChars      the longest hypothesis or premise, in characters; longer ones get 400
 * @param drainMillis       on shutdown, how long in-flight requests may take to finish
 * @param policyOverrides   whether requests may set exit thresholds
 * @param minThreshold      the lowest threshold a request may set
 * @param maxPolicySessions sessions for request-set policies held at once
 * @param maxConnections    open connections at most; more wait in the accept queue
 */
public record ServeConfig(String host, int port, int maxBatch, long maxDelayMillis, int queueCapacity, int workers,
        long timeoutMillis, long maxBodyBytes, int maxTextChars, long drainMillis, boolean policyOverrides,
        double minThreshold, int maxPolicySessions, int maxConnections) {

    /** Checks every limit, naming the option that is out of range. */
    public ServeConfig {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("--host must name an address");
        }
        check(port >= 0 && port <= 65535, "--port", port, "in 0..65535");
        check(maxBatch >= 1, "--max-batch", maxBatch, ">= 1");
        check(maxDelayMillis >= 0, "--max-delay-ms", maxDelayMillis, ">= 0");
        check(queueCapacity >= maxBatch, "--queue", queueCapacity, ">= --max-batch (" + maxBatch + ")");
        check(workers >= 1, "--workers", workers, ">= 1");
        check(timeoutMillis >= 1, "--timeout-ms", timeoutMillis, ">= 1");
        check(maxBodyBytes >= 1024 && maxBodyBytes <= Integer.MAX_VALUE - 16, "--max-body-bytes", maxBodyBytes,
                "in 1024..2^31-17");
        check(maxTextChars >= 1, "--max-text-chars", maxTextChars, ">= 1");
        check(drainMillis >= 0, "--drain-timeout-ms", drainMillis, ">= 0");
        check(minThreshold >= -1 && minThreshold <= 1, "--min-threshold", minThreshold, "in [-1, 1]");
        check(maxPolicySessions >= 0, "--max-policies", maxPolicySessions, ">= 0");
        check(maxConnections >= 1, "--max-connections", maxConnections, ">= 1");
    }

    private static void check(boolean ok, String option, Object value, String range) {
        if (!ok) {
            throw new IllegalArgumentException(option + " must be " + range + ", got " + value);
        }
    }

    /**
     * The defaults, on 127.0.0.1 at {@code port}: batches of up to 8 formed from whatever waits (no
     * added delay), 64 elements queued per model, one batch at a time per model, 30 s deadline,
     * 16 MiB bodies, 1000-character texts, 30 s drain, request thresholds down to 0.9 in up to 4
     * extra sessions, 512 connections.
     */
    public static ServeConfig defaults(int port) {
        return new ServeConfig("127.0.0.1", port, 8, 0, 64, 1, 30_000, 16L << 20, 1000, 30_000, true, 0.9, 4, 512);
    }

    /** This config with another address. */
    public ServeConfig withAddress(String h, int p) {
        return new ServeConfig(h, p, maxBatch, maxDelayMillis, queueCapacity, workers, timeoutMillis, maxBodyBytes,
                maxTextChars, drainMillis, policyOverrides, minThreshold, maxPolicySessions, maxConnections);
    }

    /** This config with other batching: {@code batch} elements at most, waiting {@code delayMillis} at most. */
    public ServeConfig withBatching(int batch, long delayMillis) {
        return new ServeConfig(host, port, batch, delayMillis, Math.max(queueCapacity, batch), workers, timeoutMillis,
                maxBodyBytes, maxTextChars, drainMillis, policyOverrides, minThreshold, maxPolicySessions, maxConnections);
    }

    /** This config with another queue, worker count and deadline. */
    public ServeConfig withQueue(int capacity, int workerCount, long timeout) {
        return new ServeConfig(host, port, maxBatch, maxDelayMillis, capacity, workerCount, timeout, maxBodyBytes,
                maxTextChars, drainMillis, policyOverrides, minThreshold, maxPolicySessions, maxConnections);
    }

    /** This config with other input limits. */
    public ServeConfig withInputLimits(long bodyBytes, int textChars) {
        return new ServeConfig(host, port, maxBatch, maxDelayMillis, queueCapacity, workers, timeoutMillis, bodyBytes,
                textChars, drainMillis, policyOverrides, minThreshold, maxPolicySessions, maxConnections);
    }

    /** This config with other policy-override limits. */
    public ServeConfig withOverrides(boolean allowed, double min, int sessions) {
        return new ServeConfig(host, port, maxBatch, maxDelayMillis, queueCapacity, workers, timeoutMillis, maxBodyBytes,
                maxTextChars, drainMillis, allowed, min, sessions, maxConnections);
    }

    /** This config with another drain time and connection limit. */
    public ServeConfig withShutdown(long drain, int connections) {
        return new ServeConfig(host, port, maxBatch, maxDelayMillis, queueCapacity, workers, timeoutMillis, maxBodyBytes,
                maxTextChars, drain, policyOverrides, minThreshold, maxPolicySessions, connections);
    }
}
