package dev.mue.serve.protocol;

import dev.mue.api.MueException;

/**
 * The server cannot take or finish a request now, through no fault of the request: the queue is
 * full, the server is draining, the request's deadline passed, or every policy session is busy.
 * Answered with 503 and a {@code Retry-After} header.
 */
public class UnavailableException extends MueException {
    private static final long serialVersionUID = 1L;

    /** 503. */
    public static final int SERVICE_UNAVAILABLE = 503;

    private final int retryAfterSeconds;

    /** A refusal whose client may retry after {@code retryAfterSeconds}. */
    public UnavailableException(String message, int retryAfterSeconds) {
        super(message);
        if (retryAfterSeconds < 0) {
            throw new IllegalArgumentException("retryAfterSeconds must be >= 0, got " + retryAfterSeconds);
        }
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Seconds for the {@code Retry-After} header. */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
