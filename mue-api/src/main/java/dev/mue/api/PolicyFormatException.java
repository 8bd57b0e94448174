package dev.mue.api;

/**
 * A policy file ({@code policy.json} in a bundle, or one passed with {@code --policy}) is not
 * valid JSON, has an unknown key, lacks a required one or holds a value out of range; the message
 * names the file and the key.
 */
public class PolicyFormatException extends MueException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message names the file, the key and the defect. */
    public PolicyFormatException(String message) {
        super(message);
    }

    /** Creates the exception with its cause. */
    public PolicyFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
