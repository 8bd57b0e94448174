/**
 * End-to-end workloads on a backend: one encoder pass and decoding steps, with and without exits.
 */
package dev.mue.benchmarks.model;
