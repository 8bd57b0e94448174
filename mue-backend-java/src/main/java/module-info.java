/**
 * The pure-Java mue backend ({@code java}): executes a plan with Vector API kernels on an owned
 * thread pool, compacting each batch as its examples exit.
 *
 * <p>Registered both here and, through {@code @AutoService}, in {@code META-INF/services}.
 */
module dev.mue.backend.java {
    requires dev.mue.api;
    requires jdk.incubator.vector;
    requires static com.google.auto.service;

    exports dev.mue.backend.java.kernels;

    provides dev.mue.api.spi.BackendProvider with dev.mue.backend.java.JvBackendProvider;
}
