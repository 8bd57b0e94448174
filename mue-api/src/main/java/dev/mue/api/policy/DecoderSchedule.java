package dev.mue.api.policy;

/**
 * The decoder's exit threshold as a function of the decoding step (design §4).
 *
 * <p>{@code step} is 0-based (the step that produces the first token is 0) and {@code maxLength}
 * is N, the maximum number of generated tokens.
 */
public sealed interface DecoderSchedule {

    /** Threshold at {@code step} of at most {@code maxLength} steps. */
    double threshold(int step, int maxLength);

    /** The static threshold theta; visual-entailment scoring, a single decoding pass, uses it as a fixed threshold. */
    double theta();

    /** A short form for traces and the CLI, e.g. {@code decay(0.99,0.95,1)}. */
    String describe();

    /** The same threshold at every step. */
    record Fixed(double theta) implements DecoderSchedule {
        /** Validates the threshold. */
        public Fixed {
            ExitPolicy.checkThreshold("decoder", theta);
        }

        @Override
        public double threshold(int step, int maxLength) {
            return theta;
        }

        @Override
        public String describe() {
            return "fixed(" + theta + ")";
        }
    }

    /**
     * The paper's CALM-style decay: {@code beta*theta + (1-beta)*exp(-tau*t/N)}; paper values
     * theta 0.99, beta 0.95, tau 1.
     */
    record Decay(double theta, double beta, double tau) implements DecoderSchedule {
        /** Validates the parameters. */
        public Decay {
            ExitPolicy.checkThreshold("decoder", theta);
            if (!(beta >= 0 && beta <= 1)) {
                throw new IllegalArgumentException("decay beta must be in [0, 1], got " + beta);
            }
            if (!(tau >= 0) || Double.isInfinite(tau)) {
                throw new IllegalArgumentException("decay tau must be finite and non-negative, got " + tau);
            }
        }

        @Override
        public double threshold(int step, int maxLength) {
            return beta * theta + (1 - beta) * Math.exp(-tau * step / (double) maxLength);
        }

        @Override
        public String describe() {
            return "decay(" + theta + "," + beta + "," + tau + ")";
        }
    }

    /**
     * A threshold per step, the last one holding for every later step: a table written out by hand
     * or by a calibration, and the way tests make a decoder exit at chosen steps. The static
     * threshold ({@link #theta()}, the visual-entailment scoring pass's) is the first entry.
     *
     * @param thresholds the thresholds of steps 0, 1, ...; at least one, each in [-1, 1]
     */
    record Table(double[] thresholds) implements DecoderSchedule {
        /** Validates and copies the thresholds. */
        public Table {
            if (thresholds == null || thresholds.length == 0) {
                throw new IllegalArgumentException("a threshold table needs at least one threshold");
            }
            thresholds = thresholds.clone();
            for (double t : thresholds) {
                ExitPolicy.checkThreshold("decoder", t);
            }
        }

        /** A copy of the thresholds. */
        @Override
        public double[] thresholds() {
            return thresholds.clone();
        }

        @Override
        public double threshold(int step, int maxLength) {
            return thresholds[Math.min(step, thresholds.length - 1)];
        }

        @Override
        public double theta() {
            return thresholds[0];
        }

        @Override
        public String describe() {
            StringBuilder sb = new StringBuilder("table(");
            for (int i = 0; i < thresholds.length; i++) {
                sb.append(i == 0 ? "" : ",").append(thresholds[i]);
            }
            return sb.append(')').toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Table t && java.util.Arrays.equals(thresholds, t.thresholds);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(thresholds);
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    /**
     * The released reference code's variant: no exit (threshold 1.0) while
     * {@code t < (N+1)/3}, then {@code 0.9*theta + 0.1*exp(-(t+1)/(N+1))}.
     */
    record ReferenceDecay(double theta) implements DecoderSchedule {
        /** Validates the threshold. */
        public ReferenceDecay {
            ExitPolicy.checkThreshold("decoder", theta);
        }

        @Override
        public double threshold(int step, int maxLength) {
            if (step < (maxLength + 1) / 3.0) {
                return 1.0;
            }
            return 0.9 * theta + 0.1 * Math.exp(-(step + 1) / (double) (maxLength + 1));
        }

        @Override
        public String describe() {
            return "reference-decay(" + theta + ")";
        }
    }
}
