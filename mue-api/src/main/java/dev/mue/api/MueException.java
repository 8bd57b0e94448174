package dev.mue.api;

/**
 * Root of every error mue reports; unchecked so that callers handle only what they can act on.
 *
 * <p>Each subclass names one kind of failure, and every message names the file, tensor, shape or
 * limit involved, so that a single line tells the user what to fix.
 */
public class MueException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Creates an exception with a message that names what went wrong. */
    public MueException(String message) {
        super(message);
    }

    /** Creates an exception with a message and the underlying cause. */
    public MueException(String message, Throwable cause) {
        super(message, cause);
    }
}
