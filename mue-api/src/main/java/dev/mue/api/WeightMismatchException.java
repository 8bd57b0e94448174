package dev.mue.api;

import java.util.List;

/**
 * The weights do not fit the model configuration: tensors are missing, unexpected or mis-shaped.
 *
 * <p>{@link #problems()} lists the offending tensors, not just the first one found, up to
 * {@link #MAX_LISTED}; {@link #total()} counts them all, and the message says "first 20 of N" when
 * some were left out, so a config that does not fit its weights at all stays one readable line.
 */
public class WeightMismatchException extends MueException {
    private static final long serialVersionUID = 1L;
    @SuppressWarnings("serial") // List.copyOf lists are serializable
    private final List<String> problems;

    /** Most problems listed in the message and kept in {@link #problems()}. */
    public static final int MAX_LISTED = 20;

    private final int total;

    /** Creates the exception listing the problems found, one tensor per entry (the first {@link #MAX_LISTED}). */
    public WeightMismatchException(List<String> problems) {
        this(problems.subList(0, Math.min(problems.size(), MAX_LISTED)), problems.size());
    }

    /**
     * Creates the exception from the first problems found and the count of all of them (a caller
     * that stops collecting after {@link #MAX_LISTED} still counts the rest).
     */
    public WeightMismatchException(List<String> firstProblems, int total) {
        super(message(firstProblems, total));
        this.problems = List.copyOf(firstProblems.subList(0, Math.min(firstProblems.size(), MAX_LISTED)));
        this.total = Math.max(total, problems.size());
    }

    private static String message(List<String> first, int total) {
        List<String> shown = first.subList(0, Math.min(first.size(), MAX_LISTED));
        String head = shown.size() < total ? total + " weight problem(s), the first " + shown.size() + ": "
                : total + " weight problem(s): ";
        return head + String.join("; ", shown);
    }

    /** The missing, extra or mis-shaped tensors, one human-readable entry each: at most {@link #MAX_LISTED}. */
    public List<String> problems() {
        return problems;
    }

    /** How many problems there were in all ({@link #problems()} may list fewer). */
    public int total() {
        return total;
    }
}
