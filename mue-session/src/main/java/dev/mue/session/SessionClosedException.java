package dev.mue.session;

import dev.mue.api.MueException;

/** A call on a {@link MueSession} that {@link MueSession#close()} has already closed (or is closing). */
public class SessionClosedException extends MueException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that names the session. */
    public SessionClosedException(String message) {
        super(message);
    }
}
