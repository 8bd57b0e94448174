package dev.mue.api;

/** A request's input (image, text, option value) cannot be used; the message says which and why. */
public class InvalidInputException extends MueException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message names the input and the limit it broke. */
    public InvalidInputException(String message) {
        super(message);
    }

    /** Creates the exception with its cause. */
    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
