package dev.mue.api;

import java.util.List;

/**
 * Where the decoder stopped for one generated token (or for the single visual-entailment pass).
 *
 * @param step      0-based decoding step
 * @param token     the token chosen at this step
 * @param exitLayer the last decoder layer run, 1-based
 * @param gates     every gate evaluated at this step, in layer order
 */
public record DecoderStepTrace(int step, int token, int exitLayer, List<GateRecord> gates) {
    /** Copies the gate list. */
    public DecoderStepTrace {
        gates = List.copyOf(gates);
    }
}
