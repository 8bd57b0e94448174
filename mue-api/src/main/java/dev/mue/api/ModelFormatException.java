package dev.mue.api;

/** A model file (config, safetensors, vocabulary) is malformed, truncated or internally inconsistent. */
public class ModelFormatException extends MueException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message names the file and the defect. */
    public ModelFormatException(String message) {
        super(message);
    }

    /** Creates the exception with its cause. */
    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
