/**
 * The mue runtime (design §10.1): executes a compiled {@link dev.mue.api.plan.Plan} over a
 * backend's layer operations ({@link dev.mue.api.layer.LayerOps}). It walks the plan's nodes and
 * edges for an encoder pass, a decoding step and a scoring pass, and is the one place that checks
 * requests, evaluates exit gates (through {@link dev.mue.api.exit.ExitCriterion}), compacts
 * batches, fills skipped decoder layers' keys and values per the KV policy, and builds traces
 * with FLOPs summed from the executed nodes' costs. A compiling backend's program is wrapped with
 * the same request checks.
 */
module dev.mue.runtime {
    requires transitive dev.mue.api;

    exports dev.mue.runtime;
}
