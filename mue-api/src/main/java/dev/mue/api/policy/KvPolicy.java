package dev.mue.api.policy;

/**
 * What deeper decoder layers keep for a token that exited early (design §4).
 *
 * <p>When a token exits at layer e, layers e+1.. have no key/value for its position; later tokens
 * that go deeper need one.
 */
public enum KvPolicy {
    /** Each skipped layer computes its K/V from the exit hidden state with its own projections (CALM). The default. */
    PROPAGATE,
    /** Skipped layers reuse layer e's K/V for that position (the reference code's stated intent). */
    COPY,
    /** Skipped layers keep no entry; later queries attend only over keys present (the reference code's effect). */
    OMIT
}
