package dev.mue.api.spi;

/**
 * Whether a backend can be created here, and if not, why.
 *
 * @param available whether {@link BackendProvider#create} is expected to succeed
 * @param reason    empty when available; otherwise what is missing and how to fix it
 */
public record Availability(boolean available, String reason) {
    /** Available. */
    public static Availability yes() {
        return new Availability(true, "");
    }

    /** Not available, for the given reason. */
    public static Availability no(String reason) {
        return new Availability(false, reason);
    }
}
