/**
 * The mue planner: validates weights against the configuration, constant-folds position biases,
 * costs every node and emits an immutable {@link dev.mue.api.plan.Plan} with explicit exit branches.
 *
 * <p>Provides {@link dev.mue.api.plan.PlanCompiler} so that the API facade finds it through
 * {@link java.util.ServiceLoader} without a compile-time dependency.
 */
module dev.mue.planner {
    requires transitive dev.mue.api;
    requires static com.google.auto.service;

    exports dev.mue.planner;

    provides dev.mue.api.plan.PlanCompiler with dev.mue.planner.PlannerProvider;
}
