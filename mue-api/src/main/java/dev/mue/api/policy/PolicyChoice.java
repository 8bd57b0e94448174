package dev.mue.api.policy;

import java.util.Locale;
import java.util.Objects;

/**
 * The exit policy a task runs with and where it came from, so that plans and traces can say it.
 *
 * <p>{@link #resolve} is the one place where the precedence of design §10.2 is written: an explicit
 * policy (API call or CLI threshold flags) over a policy file ({@code --policy FILE}) over the
 * bundle's {@code policy.json} over the paper's appendix A values.
 *
 * @param policy      the policy
 * @param source      where it came from, e.g. {@code bundle policy.json}, {@code paper appendix A}
 * @param certificate the certificate that came with it, or null (never set for a policy changed by flags)
 */
public record PolicyChoice(ExitPolicy policy, String source, Certificate certificate) {
    /** Source label of {@link ExitPolicy#paper()} when nothing else applies. */
    public static final String PAPER = "paper appendix A";

    /** Requires a policy and a source. */
    public PolicyChoice {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(source, "source");
    }

    /** The paper's appendix A policy. */
    public static PolicyChoice paper() {
        return new PolicyChoice(ExitPolicy.paper(), PAPER, null);
    }

    /**
     * The policy {@code task} runs with.
     *
     * @param explicit an explicit choice (API or flags), or null
     * @param file     the policies of a file given by the caller, or null
     * @param bundle   the model's own policies, or null
     */
    public static PolicyChoice resolve(Task task, PolicyChoice explicit, ModelPolicies file, ModelPolicies bundle) {
        if (explicit != null) {
            return explicit;
        }
        for (ModelPolicies ps : new ModelPolicies[] {file, bundle}) {
            if (ps != null && ps.forTask(task).isPresent()) {
                TaskPolicy tp = ps.forTask(task).get();
                return new PolicyChoice(tp.policy(), ps.source(), tp.certificate());
            }
        }
        return paper();
    }

    /**
     * One line for plans and traces, e.g. {@code bundle policy.json (calibrated: delta 0.02, epsilon 0.05)}
     * or {@code paper appendix A}.
     */
    public String describeSource() {
        if (certificate == null) {
            return source;
        }
        return String.format(Locale.ROOT, "%s (calibrated: delta %s, epsilon %s)", source,
                Certificate.number(certificate.delta()), Certificate.number(certificate.epsilon()));
    }
}
