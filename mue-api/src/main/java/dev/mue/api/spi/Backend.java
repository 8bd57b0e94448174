package dev.mue.api.spi;

import dev.mue.api.plan.Plan;

/**
 * A created backend: prepares plans into executables and owns what they share (a thread pool,
 * an engine, a device). Close it to release them.
 */
public interface Backend extends AutoCloseable {

    /** The provider id. */
    String id();

    /** The device in use, e.g. {@code cpu}. */
    String device();

    /**
     * Prepares a plan: uploads or lays out the weights once, and returns either layer operations
     * that the runtime drives or a program compiled from the plan. What it returns is valid until
     * it or this backend is closed.
     *
     * @throws dev.mue.api.UnsupportedFeatureException when the plan needs a capability this backend lacks
     */
    Prepared prepare(Plan plan);

    /** Releases the backend's resources. */
    @Override
    void close();
}
