package dev.mue.api.spi;

/**
 * Service interface of a backend, found with {@link java.util.ServiceLoader}. Providers are cheap:
 * native libraries load in {@link #create}, never in the constructor or in {@link #availability}.
 *
 * <p>A provider is declared both with {@code provides dev.mue.api.spi.BackendProvider with ...} in
 * its {@code module-info.java} and in {@code META-INF/services} (via {@code @AutoService}).
 */
public interface BackendProvider {

    /** Unique id: {@code java}, {@code torch} or {@code tf}. */
    String id();

    /** Rank used when no backend is named: the highest available wins. */
    int priority();

    /** What the backend supports. */
    Capabilities capabilities();

    /**
     * How fast this backend runs plans, for automatic selection; null (the default) when unknown,
     * and then only the priority ranks it.
     */
    default CostModel costModel() {
        return null;
    }

    /** Whether the backend can be created here and, if not, why. Must not throw. */
    Availability availability();

    /** Creates the backend; may load native libraries. */
    Backend create(BackendOptions options);
}
