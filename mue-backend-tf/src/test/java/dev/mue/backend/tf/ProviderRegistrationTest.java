package dev.mue.backend.tf;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.spi.Backends;
import dev.mue.tck.harness.ProviderRegistration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The provider is registered both ways and selected by id ({@link ProviderRegistration}); tf's own
 * points: it ranks below the Java backend and compiles its gates, it requires TensorFlow Java's
 * named module {@code tensorflow}, and the natives jar is an automatic module nothing requires
 * (so it belongs on the class path).
 */
class ProviderRegistrationTest {

    @Test
    void foundOnTheClassPathThroughMetaInfServices() {
        Backends.ProviderStatus s = ProviderRegistration.assertOnTheClassPath(TfBackendProvider.class, "tf");
        assertTrue(s.provider().priority() < 10, "below the Java backend: tf runs when asked for");
        assertTrue(s.provider().capabilities().compiledBranches(), "gates compiled into the graphs");
    }

    @Test
    void foundOnTheModulePathThroughModuleInfo() {
        ModuleDescriptor backend = ProviderRegistration.assertOnTheModulePath(TfBackendProvider.class,
                "dev.mue.backend.tf",
                e -> (e.contains("mue-api") || e.contains("mue-backend-tf") || e.contains("jackson")
                        || e.contains("slf4j-api") || e.contains("jtokkit") || e.contains("/org/tensorflow/")
                        || e.contains("/org/bytedeco/") || e.contains("protobuf-java"))
                        && !e.contains("linux-x86_64"),
                "tensorflow");
        assertTrue(backend.requires().stream().anyMatch(r -> r.name().equals("tensorflow")),
                "requires TensorFlow Java's module 'tensorflow': " + backend.requires());
    }

    @Test
    void theNativesJarIsAnAutomaticModuleNothingRequires() {
        Path natives = ProviderRegistration.classPath().stream()
                .filter(e -> e.contains("tensorflow-core-native") && e.contains("linux-x86_64")).map(Path::of)
                .findFirst()
                .orElseThrow(() -> new AssertionError("tensorflow-core-native (linux-x86_64) is on the test class path"));
        ModuleDescriptor d = ModuleFinder.of(natives).findAll().iterator().next().descriptor();
        assertTrue(d.isAutomatic(), d.toString());
        Path[] tf = ProviderRegistration.classPath().stream()
                .filter(e -> e.contains("/org/tensorflow/") && !e.contains("linux-x86_64")).map(Path::of)
                .toArray(Path[]::new);
        for (var ref : ModuleFinder.of(tf).findAll()) {
            assertFalse(ref.descriptor().requires().stream().anyMatch(r -> r.name().equals(d.name())),
                    ref.descriptor().name() + " requires " + d.name());
        }
    }

    @Test
    void selectedByTheSystemProperty() {
        ProviderRegistration.assertSelectedByTheSystemProperty("tf", "cpu");
    }
}
