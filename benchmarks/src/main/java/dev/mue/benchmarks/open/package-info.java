/**
 * Opening a session at the sizes users serve: plan compilation, preparation on a backend, the
 * first pass and the peak resident set, one backend per JVM ({@link dev.mue.benchmarks.open.SessionOpen}).
 */
package dev.mue.benchmarks.open;
