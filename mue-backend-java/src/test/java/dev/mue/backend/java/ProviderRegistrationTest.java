package dev.mue.backend.java;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mue.tck.harness.ProviderRegistration;
import org.junit.jupiter.api.Test;

/**
 * The provider is registered both ways (in {@code META-INF/services} for the class path, with
 * {@code provides} in {@code module-info} for the module path), each checked by actually loading
 * it that way ({@link ProviderRegistration}), and it is the highest-priority backend.
 */
class ProviderRegistrationTest {

    @Test
    void foundOnTheClassPathThroughMetaInfServices() {
        assertEquals(10, ProviderRegistration.assertOnTheClassPath(JvBackendProvider.class, "java").provider()
                .priority(), "the default backend");
    }

    @Test
    void foundOnTheModulePathThroughModuleInfo() {
        ProviderRegistration.assertOnTheModulePath(JvBackendProvider.class, "dev.mue.backend.java",
                e -> e.contains("mue-api") || e.contains("mue-backend-java")
                        || e.contains("jackson") || e.contains("slf4j-api") || e.contains("jtokkit"));
    }

    @Test
    void selectedByTheSystemProperty() {
        ProviderRegistration.assertSelectedByTheSystemProperty("java", "cpu");
    }
}
