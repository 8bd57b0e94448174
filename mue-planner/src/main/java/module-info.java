/**
 * The mue planner: validates weights against the configuration, constant-folds position biases,
 * costs every node and emits an immutable {@link dev.mue.api.plan.Plan} with explicit exit branches.
 *
 * <p>Callers (the session facade, the CLI, the TCK) require it and call
 * {@link dev.mue.planner.Planner#compile} directly: there is one planner, so no service lookup.
 */
module dev.mue.planner {
    requires transitive dev.mue.api;
    exports dev.mue.planner;
}
