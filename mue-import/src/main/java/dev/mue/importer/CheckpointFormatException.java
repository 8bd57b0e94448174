package dev.mue.importer;

import dev.mue.api.ModelFormatException;

/**
 * A checkpoint file is malformed, truncated, out of bounds or in a form the importer does not read;
 * the message names the file and, where there is one, the key or storage.
 */
public class CheckpointFormatException extends ModelFormatException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message names the file and the defect. */
    public CheckpointFormatException(String message) {
        super(message);
    }

    /** Creates the exception with its cause. */
    public CheckpointFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
