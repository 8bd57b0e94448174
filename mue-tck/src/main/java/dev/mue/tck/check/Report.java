package dev.mue.tck.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of comparing two runs of a case: the problems found (each a sentence naming the
 * example, stream, row, step or layer), and the counts and maxima the summary line reports.
 */
public final class Report {
    private static final int MAX_LISTED = 25;
    private final List<String> problems = new ArrayList<>();
    private int problemCount;
    private long decisions;
    private long closeCalls;
    private long flippedCloseCalls;
    private long tokenTies;
    private double maxEncoderError;
    private double maxLogitError;
    private double maxSimilarityError;

    /** An empty report. */
    public Report() {
    }

    /** Records a problem. */
    public void problem(String message) {
        problemCount++;
        if (problems.size() < MAX_LISTED) {
            problems.add(message);
        }
    }

    void decision() {
        decisions++;
    }

    void closeCall(boolean flipped) {
        closeCalls++;
        if (flipped) {
            flippedCloseCalls++;
        }
    }

    void tokenTie() {
        tokenTies++;
    }

    void encoderError(double e) {
        maxEncoderError = max(maxEncoderError, e);
    }

    void logitError(double e) {
        maxLogitError = max(maxLogitError, e);
    }

    void similarityError(double e) {
        maxSimilarityError = max(maxSimilarityError, e);
    }

    private static double max(double a, double b) {
        return Double.isNaN(b) ? Double.NaN : Math.max(a, b);
    }

    /** Adds another report's problems and counts to this one. */
    public void add(Report o) {
        for (String p : o.problems) {
            if (problems.size() < MAX_LISTED) {
                problems.add(p);
            }
        }
        problemCount += o.problemCount;
        decisions += o.decisions;
        closeCalls += o.closeCalls;
        flippedCloseCalls += o.flippedCloseCalls;
        tokenTies += o.tokenTies;
        maxEncoderError = max(maxEncoderError, o.maxEncoderError);
        maxLogitError = max(maxLogitError, o.maxLogitError);
        maxSimilarityError = max(maxSimilarityError, o.maxSimilarityError);
    }

    /** Whether nothing was wrong. */
    public boolean ok() {
        return problemCount == 0;
    }

    /** The problems (the first 25). */
    public List<String> problems() {
        return List.copyOf(problems);
    }

    /** Number of problems. */
    public int problemCount() {
        return problemCount;
    }

    /** Exit decisions compared (reference margin at least {@link Tolerances#CLOSE_CALL}). */
    public long decisions() {
        return decisions;
    }

    /** Decisions closer than {@link Tolerances#CLOSE_CALL} (reported, never compared). */
    public long closeCalls() {
        return closeCalls;
    }

    /**
     * Searched hypotheses that differed where the reference's ranking had a near-tie (excused,
     * see {@link Tolerances#TOKEN_TIE}).
     */
    public long tokenTies() {
        return tokenTies;
    }

    /** Close calls that the two sides decided differently. */
    public long flippedCloseCalls() {
        return flippedCloseCalls;
    }

    /** Largest relative error of an encoder output. */
    public double maxEncoderError() {
        return maxEncoderError;
    }

    /** Largest relative error of a logit vector. */
    public double maxLogitError() {
        return maxLogitError;
    }

    /** Largest absolute similarity error. */
    public double maxSimilarityError() {
        return maxSimilarityError;
    }

    /** The failure message: every listed problem on its own line. */
    public String describe(String what) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s: %d problem(s)", what, problemCount));
        for (String p : problems) {
            sb.append("\n  - ").append(p);
        }
        if (problemCount > problems.size()) {
            sb.append("\n  ... and ").append(problemCount - problems.size()).append(" more");
        }
        sb.append(String.format(Locale.ROOT, "%n  (%d decisions compared, %d close calls, %d token ties, max rel error %.2g "
                + "encoder, %.2g logits, max |dsim| %.2g)", decisions, closeCalls, tokenTies, maxEncoderError, maxLogitError,
                maxSimilarityError));
        return sb.toString();
    }
}
