package dev.mue.tck.reference;

import dev.mue.api.InvalidInputException;
import dev.mue.api.plan.Plan;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.ScoringOutput;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference as a backend-shaped {@link Executable}: float64 inside, the SPI's float32 arrays
 * outside, with the same input validation every backend must do (each bad input rejected with
 * {@link InvalidInputException}). The {@code *Exact} methods return the float64 values.
 *
 * <p>Of the plan it uses the model, the policy and the shapes only; position biases are computed
 * from the weights, not taken from the plan's folded ones.
 */
public final class ReferenceExecutable implements Executable {
    private final Plan plan;
    private final ReferenceExecutor executor;

    /** A reference executable for {@code plan}. */
    public ReferenceExecutable(Plan plan) {
        this.plan = plan;
        this.executor = new ReferenceExecutor(plan.model(), plan.policy(), plan.shapes());
    }

    @Override
    public Plan plan() {
        return plan;
    }

    /** The underlying executor. */
    public ReferenceExecutor executor() {
        return executor;
    }

    @Override
    public ReferenceEncodedBatch encode(List<EncoderInput> batch) {
        if (batch == null || batch.isEmpty()) {
            throw new InvalidInputException("encode needs at least one example");
        }
        var c = plan.config();
        int pixels = 3 * c.imageSize() * c.imageSize();
        for (int i = 0; i < batch.size(); i++) {
            EncoderInput in = batch.get(i);
            if (in.image().length != pixels) {
                throw new InvalidInputException("example " + i + ": image has " + in.image().length + " values, expected 3x"
                        + c.imageSize() + "x" + c.imageSize());
            }
            if (in.tokens().length > plan.shapes().maxTextTokens()) {
                throw new InvalidInputException("example " + i + ": text of " + in.tokens().length
                        + " tokens exceeds the limit " + plan.shapes().maxTextTokens());
            }
            for (int t : in.tokens()) {
                checkToken(t);
            }
        }
        List<ReferenceExecutor.Encoded> out = new ArrayList<>();
        for (EncoderInput in : batch) {
            out.add(executor.encode(in.image(), in.tokens()));
        }
        return new ReferenceEncodedBatch(out);
    }

    private void checkToken(int t) {
        if (t < 0 || t >= plan.config().vocabSize()) {
            throw new InvalidInputException("token id " + t + " outside the vocabulary [0, " + plan.config().vocabSize() + ")");
        }
    }

    private static ReferenceEncodedBatch own(EncodedBatch b) {
        if (b instanceof ReferenceEncodedBatch r) {
            return r;
        }
        throw new IllegalArgumentException("not an encoded batch of the reference: " + b);
    }

    @Override
    public ReferenceStepper decoder(EncodedBatch encoded, int[] exampleOfRow, int horizon) {
        ReferenceEncodedBatch enc = own(encoded);
        if (horizon < 1) {
            throw new InvalidInputException("decoding horizon must be at least 1 token, got " + horizon);
        }
        List<ReferenceExecutor.Row> rows = new ArrayList<>();
        for (int e : exampleOfRow) {
            if (e < 0 || e >= enc.size()) {
                throw new InvalidInputException("row refers to example " + e + " of a batch of " + enc.size());
            }
            rows.add(executor.newRow(enc.encoded(e)));
        }
        return new ReferenceStepper(this, rows, horizon);
    }

    @Override
    public ScoringOutput score(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences, int[] firstScored) {
        ReferenceExecutor.ScoreResult r = scoreExact(encoded, exampleOfRow, sequences, firstScored);
        float[][][] logits = new float[r.logits().length][][];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = new float[r.logits()[i].length][];
            for (int t = 0; t < logits[i].length; t++) {
                logits[i][t] = ReferenceMath.toFloat(r.logits()[i][t]);
            }
        }
        return new ScoringOutput(logits, r.exitLayer(), r.gates());
    }

    /** {@link #score} in float64, at the decoder schedule's static threshold (design §4: one pass, one fixed threshold). */
    public ReferenceExecutor.ScoreResult scoreExact(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences,
            int[] firstScored) {
        return scoreExact(encoded, exampleOfRow, sequences, firstScored, plan.policy().decoderSchedule().theta());
    }

    /** {@link #score} in float64 at an explicit threshold, for tests of the reference itself. */
    public ReferenceExecutor.ScoreResult scoreExact(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences,
            int[] firstScored, double threshold) {
        ReferenceEncodedBatch enc = own(encoded);
        int n = exampleOfRow.length;
        if (sequences.length != n || firstScored.length != n) {
            throw new InvalidInputException("scoring needs one sequence and first position per row, got " + n
                    + " rows, " + sequences.length + " sequences, " + firstScored.length + " first positions");
        }
        for (int r = 0; r < n; r++) {
            if (exampleOfRow[r] < 0 || exampleOfRow[r] >= enc.size()) {
                throw new InvalidInputException("row " + r + " refers to example " + exampleOfRow[r] + " of a batch of "
                        + enc.size());
            }
            if (sequences[r] == null || sequences[r].length == 0 || sequences[r].length > plan.shapes().maxDecoderTokens()) {
                throw new InvalidInputException("row " + r + ": sequence of " + (sequences[r] == null ? 0 : sequences[r].length)
                        + " tokens, expected 1 to " + plan.shapes().maxDecoderTokens());
            }
            if (firstScored[r] < 0 || firstScored[r] >= sequences[r].length) {
                throw new InvalidInputException("row " + r + ": first scored position " + firstScored[r]
                        + " outside the sequence of " + sequences[r].length);
            }
            for (int t : sequences[r]) {
                checkToken(t);
            }
        }
        List<ReferenceExecutor.Encoded> ex = new ArrayList<>();
        for (int i = 0; i < enc.size(); i++) {
            ex.add(enc.encoded(i));
        }
        return executor.score(ex, exampleOfRow, sequences, firstScored, threshold);
    }

    /** The decoder threshold at step {@code step} of at most {@code horizon} tokens, from the policy's schedule. */
    double decoderThreshold(int step, int horizon) {
        return plan.policy().decoderSchedule().threshold(step, horizon);
    }

    /** Checks a decoder step's input; called by the stepper. */
    void checkStep(int rows, int[] tokens, int position) {
        if (tokens.length != rows) {
            throw new InvalidInputException("step got " + tokens.length + " tokens for " + rows + " rows");
        }
        if (position >= plan.shapes().maxDecoderTokens()) {
            throw new InvalidInputException("decoding past the plan's " + plan.shapes().maxDecoderTokens()
                    + " decoder positions");
        }
        for (int t : tokens) {
            checkToken(t);
        }
    }

    @Override
    public void close() {
        // nothing to release: everything is on the Java heap
    }
}
