package dev.mue.spark.exec;

import dev.mue.api.MueException;

/**
 * A row that could not be processed, thrown only in fail-fast mode (otherwise the row gets the
 * error column); the message names the row's image (and hypothesis) and the reason.
 */
public class RowFailedException extends MueException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; {@code cause} is the row's own failure. */
    public RowFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
