package dev.mue.api;

import java.util.List;

/**
 * The weights do not fit the model configuration: tensors are missing, unexpected or mis-shaped.
 *
 * <p>{@link #problems()} lists every offending tensor, not just the first one found.
 */
public class WeightMismatchException extends MueException {
    private static final long serialVersionUID = 1L;
    @SuppressWarnings("serial") // List.copyOf lists are serializable
    private final List<String> problems;

    /** Creates the exception listing every problem found, one tensor per entry. */
    public WeightMismatchException(List<String> problems) {
        super(problems.size() + " weight problem(s): " + String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    /** Every missing, extra or mis-shaped tensor, one human-readable entry each. */
    public List<String> problems() {
        return problems;
    }
}
