/**
 * JMH benchmarks of mue, run from {@code benchmarks/target/benchmarks.jar}, and the seeded inputs they share.
 */
package dev.mue.benchmarks;
