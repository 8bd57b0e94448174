/**
 * JMH benchmarks of the Java backend's compute kernels: the scalar control against the Vector API kernels.
 */
package dev.mue.benchmarks.kernels;
