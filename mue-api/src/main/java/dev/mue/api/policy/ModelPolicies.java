package dev.mue.api.policy;

import java.util.Optional;

/**
 * The exit policies that come with a model or a policy file, one per task, either of which may be
 * absent (that task then falls through to the next source, ending at the paper's values).
 *
 * @param caption the captioning policy, or null
 * @param entail  the visual-entailment policy, or null
 * @param source  where they were read from, for messages and traces (e.g. {@code bundle policy.json})
 */
public record ModelPolicies(TaskPolicy caption, TaskPolicy entail, String source) {

    /** No policies at all: every task falls through. */
    public static ModelPolicies none() {
        return new ModelPolicies(null, null, "none");
    }

    /** The policy for {@code task}, if this source has one. */
    public Optional<TaskPolicy> forTask(Task task) {
        return Optional.ofNullable(task == Task.CAPTION ? caption : entail);
    }

    /** A copy with {@code task}'s entry replaced (null removes it). */
    public ModelPolicies with(Task task, TaskPolicy p) {
        return task == Task.CAPTION ? new ModelPolicies(p, entail, source) : new ModelPolicies(caption, p, source);
    }

    /** Whether neither task has a policy. */
    public boolean isEmpty() {
        return caption == null && entail == null;
    }
}
