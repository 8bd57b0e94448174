package dev.mue.serve.protocol;

import dev.mue.api.InvalidInputException;

/**
 * A request the server refuses because of the request itself, with the HTTP status that says why:
 * 400 (malformed or invalid), 404 (no such model or route), 405 (wrong method) or 413 (body too large).
 * The message is the OIP error body's text: one line naming the input, element, field or limit.
 */
public class RequestException extends InvalidInputException {
    private static final long serialVersionUID = 1L;

    /** 400: malformed JSON, a wrong datatype or shape, bad base64, an undecodable image, text over a limit. */
    public static final int BAD_REQUEST = 400;
    /** 404: no such model, version or route. */
    public static final int NOT_FOUND = 404;
    /** 405: the route exists for another method. */
    public static final int METHOD_NOT_ALLOWED = 405;
    /** 413: the body is larger than the server's limit. */
    public static final int PAYLOAD_TOO_LARGE = 413;

    private final int status;

    /** A 400 with this message. */
    public RequestException(String message) {
        this(BAD_REQUEST, message);
    }

    /** A refusal with the given HTTP status. */
    public RequestException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** A refusal with the given HTTP status and cause. */
    public RequestException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }
}
