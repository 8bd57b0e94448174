package dev.mue.tck.reference;

import dev.mue.api.GateRecord;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.StepOutput;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link DecoderStepper} that records every call made to the stepper it wraps, with the outputs,
 * so that a search run on the reference can be replayed call for call on a backend (the backend
 * then sees exactly the tokens the reference chose, whatever its own ranking would have been).
 * Over a {@link ReferenceStepper} it keeps the float64 logits.
 */
public final class RecordingStepper implements DecoderStepper {
    private final DecoderStepper inner;
    private final List<Call> calls = new ArrayList<>();
    private int[] exampleOfRow;

    /** One recorded call. */
    public sealed interface Call {
    }

    /**
     * A step and what it returned.
     *
     * @param tokens       the tokens fed, one per row
     * @param exampleOfRow per row, its example
     * @param logits       per row, the logits (float64 when the stepper is the reference)
     * @param exitLayer    per row, the last layer run
     * @param gates        per row, the gates evaluated
     */
    public record Step(int[] tokens, int[] exampleOfRow, double[][] logits, int[] exitLayer,
            List<List<GateRecord>> gates) implements Call {
    }

    /**
     * A reorder.
     *
     * @param parents per new row, its old row
     */
    public record Reorder(int[] parents) implements Call {
    }

    /** Wraps {@code inner}, whose row {@code r} belongs to example {@code exampleOfRow[r]}. */
    public RecordingStepper(DecoderStepper inner, int[] exampleOfRow) {
        this.inner = inner;
        this.exampleOfRow = exampleOfRow.clone();
    }

    /** Every call so far, in order. */
    public List<Call> calls() {
        return List.copyOf(calls);
    }

    @Override
    public int rows() {
        return inner.rows();
    }

    @Override
    public StepOutput step(int[] tokens) {
        StepOutput out;
        double[][] logits;
        if (inner instanceof ReferenceStepper ref) {
            ReferenceStepper.ExactStep exact = ref.stepExact(tokens);
            out = exact.toStepOutput();
            logits = exact.logits();
        } else {
            out = inner.step(tokens);
            logits = new double[out.logits().length][];
            for (int r = 0; r < logits.length; r++) {
                logits[r] = ReferenceMath.toDouble(out.logits()[r]);
            }
        }
        calls.add(new Step(tokens.clone(), exampleOfRow.clone(), logits, out.exitLayer().clone(),
                List.copyOf(out.gates())));
        return out;
    }

    @Override
    public void reorder(int[] parents) {
        int[] next = new int[parents.length];
        for (int i = 0; i < parents.length; i++) {
            next[i] = exampleOfRow[parents[i]];
        }
        inner.reorder(parents);
        exampleOfRow = next;
        calls.add(new Reorder(parents.clone()));
    }

    @Override
    public void close() {
        inner.close();
    }
}
