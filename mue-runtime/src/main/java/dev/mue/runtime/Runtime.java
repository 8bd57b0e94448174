package dev.mue.runtime;

import dev.mue.api.layer.LayerOps;
import dev.mue.api.plan.Plan;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.Prepared;

/**
 * Where plans meet backends: {@link #prepare} asks a backend to prepare a plan and returns the
 * {@link Executable} every caller uses (the session facade, the TCK, the benchmarks).
 */
public final class Runtime {
    private Runtime() {
    }

    /**
     * Prepares {@code plan} on {@code backend}: the runtime executes it over the backend's layer
     * operations, or checks requests in front of the program the backend compiled.
     *
     * @throws dev.mue.api.UnsupportedFeatureException when the plan needs a capability the backend lacks
     */
    public static Executable prepare(Backend backend, Plan plan) {
        return executable(plan, backend.prepare(plan));
    }

    /** The executable of what a backend prepared for {@code plan}. */
    public static Executable executable(Plan plan, Prepared prepared) {
        return switch (prepared) {
            case Prepared.Interpreted i -> interpret(plan, i.ops());
            case Prepared.Compiled c -> new CheckedExecutable(plan, c.executable());
        };
    }

    /** Executes {@code plan} over layer operations prepared for it. */
    public static <X, M, C> Executable interpret(Plan plan, LayerOps<X, M, C> ops) {
        return new PlanExecutable<>(plan, ops);
    }
}
