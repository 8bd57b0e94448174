/**
 * Load on {@code mue serve} over loopback: throughput and latency percentiles for several client
 * counts, with and without dynamic batching, full depth and MuE ({@link dev.mue.benchmarks.serve.ServeLoadBenchmark}).
 */
package dev.mue.benchmarks.serve;
