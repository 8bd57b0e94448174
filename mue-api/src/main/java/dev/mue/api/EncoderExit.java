package dev.mue.api;

import dev.mue.api.plan.Stream;
import java.util.List;

/**
 * Where one encoder stream of one example stopped.
 *
 * @param stream    IMAGE, TEXT or JOINT
 * @param exitLayer the last layer run, 1-based
 * @param tokens    the stream's real (non-padding) token count
 * @param gates     every gate evaluated, in layer order
 */
public record EncoderExit(Stream stream, int exitLayer, int tokens, List<GateRecord> gates) {
    /** Copies the gate list. */
    public EncoderExit {
        gates = List.copyOf(gates);
    }
}
