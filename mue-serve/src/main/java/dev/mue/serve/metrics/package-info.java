/**
 * Metrics in the Prometheus text format: {@link dev.mue.serve.metrics.Registry} holds counter, gauge
 * and histogram families and writes their exposition; {@link dev.mue.serve.metrics.ServeMetrics}
 * names the server's own (requests, latency, batches, queue depth, exit layers, layers saved).
 */
package dev.mue.serve.metrics;
