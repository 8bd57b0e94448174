package dev.mue.backend.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.BackendProvider;
import dev.mue.api.spi.Backends;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.Configuration;
import java.lang.module.FindException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The provider is registered both ways (design §1, §6) and selected by id: in
 * {@code META-INF/services} for the class path, with {@code provides} in {@code module-info} for
 * the module path, each checked by loading it that way; {@code -Dmue.backend=torch} selects it.
 */
class ProviderRegistrationTest {

    private static List<String> classPath() {
        return Arrays.asList(System.getProperty("java.class.path").split(java.io.File.pathSeparator));
    }

    @Test
    void foundOnTheClassPathThroughMetaInfServices() throws IOException {
        List<URL> files = Collections.list(getClass().getClassLoader()
                .getResources("META-INF/services/" + BackendProvider.class.getName()));
        boolean listed = false;
        for (URL u : files) {
            try (InputStream in = u.openStream()) {
                listed |= new String(in.readAllBytes(), StandardCharsets.UTF_8)
                        .contains(PtBackendProvider.class.getName());
            }
        }
        assertTrue(listed, "META-INF/services lists PtBackendProvider");
        Backends.ProviderStatus s = Backends.statuses().stream().filter(x -> x.provider().id().equals("torch"))
                .findFirst().orElseThrow();
        assertTrue(s.availability().available(), s.availability().reason());
        assertTrue(s.provider().priority() < 10, "below the Java backend: torch runs when asked for");
    }

    @Test
    void foundOnTheModulePathThroughModuleInfo() {
        // A fresh module layer over this build's classes and their dependencies: only the module
        // descriptors can make the provider visible here. The natives jar stays out: its automatic
        // module name is invalid, which is why it belongs on the class path.
        Path[] entries = classPath().stream()
                .filter(e -> e.contains("mue-api") || e.contains("mue-backend-torch") || e.contains("jackson")
                        || e.contains("slf4j-api") || e.contains("jtokkit") || e.contains("/ai/djl/")
                        || e.contains("gson") || e.contains("/jna/") || e.contains("commons-"))
                .filter(e -> !e.contains("test-classes") && !e.contains("pytorch-native"))
                .map(Path::of).toArray(Path[]::new);
        ModuleFinder finder = ModuleFinder.of(entries);
        ModuleDescriptor backend = finder.find("dev.mue.backend.torch").orElseThrow().descriptor();
        assertTrue(backend.provides().stream().anyMatch(p -> p.service().equals(BackendProvider.class.getName())
                && p.providers().contains(PtBackendProvider.class.getName())), backend.provides().toString());
        Configuration cf = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(),
                Set.of("dev.mue.api"));
        assertTrue(cf.findModule("dev.mue.backend.torch").isPresent(), "service binding resolves the backend");
        assertTrue(cf.findModule("ai.djl.pytorch_engine").isPresent(), "and DJL's engine with it");
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
        Class<?> service;
        try {
            service = layer.findLoader("dev.mue.api").loadClass(BackendProvider.class.getName());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
        List<String> ids = ServiceLoader.load(layer, service).stream().map(p -> p.type().getName()).toList();
        assertEquals(List.of(PtBackendProvider.class.getName()), ids);
    }

    @Test
    void theNativesJarCannotBeAModule() {
        Path natives = classPath().stream().filter(e -> e.contains("pytorch-native-cpu")).map(Path::of).findFirst()
                .orElseThrow(() -> new AssertionError("pytorch-native-cpu is on the test class path"));
        assertThrows(FindException.class, () -> ModuleFinder.of(natives).findAll());
    }

    @Test
    void selectedByTheSystemProperty() {
        String before = System.getProperty(Backends.PROPERTY);
        System.setProperty(Backends.PROPERTY, "torch");
        try {
            assertEquals("torch", Backends.choose(null).id());
            try (Backend b = Backends.create(null, BackendOptions.defaults())) {
                assertEquals("torch", b.id());
                assertEquals("cpu", b.device());
            }
        } finally {
            if (before == null) {
                System.clearProperty(Backends.PROPERTY);
            } else {
                System.setProperty(Backends.PROPERTY, before);
            }
        }
    }
}
