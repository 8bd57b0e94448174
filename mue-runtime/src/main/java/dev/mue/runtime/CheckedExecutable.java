package dev.mue.runtime;

import dev.mue.api.InvalidInputException;
import dev.mue.api.plan.Plan;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.RequestChecks;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.api.spi.StepOutput;
import java.util.List;
import java.util.Optional;

/**
 * A compiling backend's program behind the runtime's request checks, so that bad input gets the
 * same {@link InvalidInputException} and message whichever backend runs it.
 */
final class CheckedExecutable implements Executable {
    private final Plan plan;
    private final Executable program;

    CheckedExecutable(Plan plan, Executable program) {
        if (program.plan() != plan) {
            throw new IllegalArgumentException("the compiled program was prepared for another plan");
        }
        this.plan = plan;
        this.program = program;
    }

    @Override
    public Plan plan() {
        return plan;
    }

    @Override
    public EncodedBatch encode(List<EncoderInput> batch) {
        RequestChecks.encoderBatch(plan, batch);
        return program.encode(batch);
    }

    @Override
    public DecoderStepper decoder(EncodedBatch encoded, int[] exampleOfRow, int horizon) {
        RequestChecks.rows(encoded.size(), exampleOfRow);
        if (horizon < 1) {
            throw new InvalidInputException("decoding horizon must be at least 1 token, got " + horizon);
        }
        return new Checked(program.decoder(encoded, exampleOfRow, horizon));
    }

    @Override
    public ScoringOutput score(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences, int[] firstScored) {
        RequestChecks.scoring(plan, encoded.size(), exampleOfRow, sequences, firstScored);
        return program.score(encoded, exampleOfRow, sequences, firstScored);
    }

    @Override
    public Optional<String> describeCompiled() {
        return program.describeCompiled();
    }

    @Override
    public void close() {
        program.close();
    }

    /** The program's stepper behind the checks of each step. */
    private final class Checked implements DecoderStepper {
        private final DecoderStepper steps;
        private int positions;

        Checked(DecoderStepper steps) {
            this.steps = steps;
        }

        @Override
        public int rows() {
            return steps.rows();
        }

        @Override
        public StepOutput step(int[] tokens) {
            int n = steps.rows();
            if (tokens == null || tokens.length != n) {
                throw new InvalidInputException("step got " + (tokens == null ? 0 : tokens.length) + " tokens for "
                        + n + " rows");
            }
            if (positions >= plan.shapes().maxDecoderTokens()) {
                throw new InvalidInputException("decoding past the plan's " + plan.shapes().maxDecoderTokens()
                        + " decoder positions");
            }
            RequestChecks.tokens(plan, tokens, "decoder ");
            StepOutput out = steps.step(tokens);
            positions++;
            return out;
        }

        @Override
        public void reorder(int[] parents) {
            int n = steps.rows();
            for (int p : parents) {
                if (p < 0 || p >= n) {
                    throw new InvalidInputException("reorder parent " + p + " outside 0.." + (n - 1));
                }
            }
            steps.reorder(parents);
        }

        @Override
        public void close() {
            steps.close();
        }
    }
}
