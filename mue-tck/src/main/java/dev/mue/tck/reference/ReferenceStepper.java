package dev.mue.tck.reference;

import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.StepOutput;
import java.util.ArrayList;
import java.util.List;

/** The reference's incremental decoder: one {@link ReferenceExecutor.Row} per live row. */
public final class ReferenceStepper implements DecoderStepper {
    private final ReferenceExecutable owner;
    private final int horizon;
    private List<ReferenceExecutor.Row> rows;
    private int step;

    ReferenceStepper(ReferenceExecutable owner, List<ReferenceExecutor.Row> rows, int horizon) {
        this.owner = owner;
        this.rows = new ArrayList<>(rows);
        this.horizon = horizon;
    }

    /**
     * One step in float64.
     *
     * @param logits    per row, the vocabulary logits
     * @param exitLayer per row, the last layer run
     * @param gates     per row, the gates evaluated
     */
    public record ExactStep(double[][] logits, int[] exitLayer, List<List<GateRecord>> gates) {
        /** The same step in the SPI's float32 form. */
        public StepOutput toStepOutput() {
            float[][] l = new float[logits.length][];
            for (int r = 0; r < l.length; r++) {
                l[r] = ReferenceMath.toFloat(logits[r]);
            }
            return new StepOutput(l, exitLayer.clone(), gates);
        }
    }

    @Override
    public int rows() {
        return rows.size();
    }

    /** The live rows' states; for the reference's own tests. */
    public List<ReferenceExecutor.Row> rowStates() {
        return List.copyOf(rows);
    }

    @Override
    public StepOutput step(int[] tokens) {
        return stepExact(tokens).toStepOutput();
    }

    /** {@link #step} in float64, at the schedule's threshold of this step. */
    public ExactStep stepExact(int[] tokens) {
        return stepExact(tokens, owner.decoderThreshold(step, horizon));
    }

    /**
     * {@link #step} in float64 at an explicit {@code threshold} instead of the schedule's: for tests
     * of the reference itself that need a threshold no schedule gives (e.g. an exit at one step only).
     */
    public ExactStep stepExact(int[] tokens, double threshold) {
        int position = rows.isEmpty() ? 0 : rows.get(0).position();
        owner.checkStep(rows.size(), tokens, position);
        step++;
        double[][] logits = new double[rows.size()][];
        int[] exit = new int[rows.size()];
        List<List<GateRecord>> gates = new ArrayList<>();
        for (int r = 0; r < rows.size(); r++) {
            ReferenceExecutor.StepResult s = owner.executor().step(rows.get(r), tokens[r], threshold);
            logits[r] = s.logits();
            exit[r] = s.exitLayer();
            gates.add(s.gates());
        }
        return new ExactStep(logits, exit, List.copyOf(gates));
    }

    @Override
    public void reorder(int[] parents) {
        List<ReferenceExecutor.Row> next = new ArrayList<>();
        for (int p : parents) {
            if (p < 0 || p >= rows.size()) {
                throw new InvalidInputException("reorder parent " + p + " outside the " + rows.size() + " rows");
            }
            next.add(rows.get(p).copy());
        }
        rows = next;
    }

    @Override
    public void close() {
        rows = List.of();
    }
}
