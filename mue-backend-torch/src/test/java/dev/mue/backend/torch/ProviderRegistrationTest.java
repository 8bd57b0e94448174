package dev.mue.backend.torch;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.spi.Backends;
import dev.mue.tck.harness.ProviderRegistration;
import java.lang.module.FindException;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The provider is registered both ways and selected by id ({@link ProviderRegistration}); torch's
 * own points: it ranks below the Java backend, and its natives jar cannot be a module (so it
 * belongs on the class path).
 */
class ProviderRegistrationTest {

    @Test
    void foundOnTheClassPathThroughMetaInfServices() {
        Backends.ProviderStatus s = ProviderRegistration.assertOnTheClassPath(PtBackendProvider.class, "torch");
        assertTrue(s.provider().priority() < 10, "below the Java backend: torch runs when asked for");
    }

    @Test
    void foundOnTheModulePathThroughModuleInfo() {
        // The natives jar stays out: its automatic module name is invalid.
        ProviderRegistration.assertOnTheModulePath(PtBackendProvider.class, "dev.mue.backend.torch",
                e -> (e.contains("mue-api") || e.contains("mue-backend-torch") || e.contains("jackson")
                        || e.contains("slf4j-api") || e.contains("jtokkit") || e.contains("/ai/djl/")
                        || e.contains("gson") || e.contains("/jna/") || e.contains("commons-"))
                        && !e.contains("pytorch-native"),
                "ai.djl.pytorch_engine");
    }

    @Test
    void theNativesJarCannotBeAModule() {
        Path natives = ProviderRegistration.classPath().stream().filter(e -> e.contains("pytorch-native-cpu"))
                .map(Path::of).findFirst()
                .orElseThrow(() -> new AssertionError("pytorch-native-cpu is on the test class path"));
        assertThrows(FindException.class, () -> ModuleFinder.of(natives).findAll());
    }

    @Test
    void selectedByTheSystemProperty() {
        ProviderRegistration.assertSelectedByTheSystemProperty("torch", "cpu");
    }
}
