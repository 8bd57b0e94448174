/**
 * The runtime: {@link dev.mue.runtime.Runtime#prepare} turns what a backend prepared into an
 * {@link dev.mue.api.spi.Executable}; {@link dev.mue.runtime.Traces} builds exit traces from the
 * plan's node costs.
 */
package dev.mue.runtime;
