package dev.mue.api;

/** No backend can serve the request: the named one is unknown, unavailable or failed to start. */
public class BackendUnavailableException extends MueException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message names the backend and why it cannot be used. */
    public BackendUnavailableException(String message) {
        super(message);
    }

    /** Creates the exception with its cause. */
    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
