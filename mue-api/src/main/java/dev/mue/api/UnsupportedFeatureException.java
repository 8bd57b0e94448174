package dev.mue.api;

/** The chosen backend declares that it does not support a feature the plan or request needs. */
public class UnsupportedFeatureException extends MueException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message names the backend and the missing capability. */
    public UnsupportedFeatureException(String message) {
        super(message);
    }
}
