/**
 * Turns a JMH result file of the benchmarks into the README's Markdown tables, with every speed
 * as a fraction of the machine's measured FMA peak and ratios between backends of one run.
 */
package dev.mue.benchmarks.report;
