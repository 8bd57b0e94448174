package dev.mue.api.spi;

import dev.mue.api.layer.LayerOps;

/**
 * What a backend made of a plan ({@link Backend#prepare}): layer operations for the runtime to
 * drive (an interpretive backend), or a program the backend compiled from the plan's nodes itself
 * (a compiling backend, e.g. tf's graphs with an {@code If} per gate node).
 */
public sealed interface Prepared extends AutoCloseable {

    /** Releases what the backend prepared. */
    @Override
    void close();

    /**
     * Layer operations; the runtime executes the plan with them.
     *
     * @param ops the operations
     */
    record Interpreted(LayerOps<?, ?, ?> ops) implements Prepared {
        @Override
        public void close() {
            ops.close();
        }
    }

    /**
     * A compiled program that runs the plan's stages itself, gates included; the runtime checks
     * requests before they reach it and builds traces from what it reports.
     *
     * @param executable the compiled program
     */
    record Compiled(Executable executable) implements Prepared {
        @Override
        public void close() {
            executable.close();
        }
    }
}
