/**
 * The machine's measured float32 FMA peak, the yardstick every other figure is reported against
 * (as a fraction of it), since these benchmarks run on machines that differ between sessions.
 */
package dev.mue.benchmarks.peak;
