package dev.mue.api.policy;

import java.util.Objects;

/**
 * One task's entry of a policy file: the exit policy and, when it was calibrated, the certificate
 * that says what it guarantees.
 *
 * @param policy      the exit policy
 * @param certificate the calibration certificate, or null for a hand-written policy
 */
public record TaskPolicy(ExitPolicy policy, Certificate certificate) {

    /** Requires a policy. */
    public TaskPolicy {
        Objects.requireNonNull(policy, "policy");
    }
}
