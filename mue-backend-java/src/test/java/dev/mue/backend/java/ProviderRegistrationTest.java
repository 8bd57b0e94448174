package dev.mue.backend.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.spi.BackendProvider;
import dev.mue.api.spi.Backends;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.Configuration;
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
 * The provider is registered both ways (design §1, §6): in {@code META-INF/services} for the class
 * path, and with {@code provides} in {@code module-info} for the module path. Each is checked by
 * actually loading the provider that way.
 */
class ProviderRegistrationTest {

    @Test
    void foundOnTheClassPathThroughMetaInfServices() throws IOException {
        List<URL> files = Collections.list(getClass().getClassLoader()
                .getResources("META-INF/services/" + BackendProvider.class.getName()));
        boolean listed = false;
        for (URL u : files) {
            try (InputStream in = u.openStream()) {
                listed |= new String(in.readAllBytes(), StandardCharsets.UTF_8).contains(JvBackendProvider.class.getName());
            }
        }
        assertTrue(listed, "META-INF/services lists JvBackendProvider");
        assertTrue(Backends.providers().stream().anyMatch(p -> p instanceof JvBackendProvider));
        assertTrue(Backends.statuses().stream().anyMatch(s -> s.provider().id().equals("java") && s.availability().available()));
    }

    @Test
    void foundOnTheModulePathThroughModuleInfo() {
        // A fresh module layer over this build's classes and the API's dependencies: only the
        // module descriptors can make the provider visible here.
        Path[] entries = Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(e -> e.contains("mue-api") || e.contains("mue-planner") || e.contains("mue-backend-java")
                        || e.contains("jackson") || e.contains("slf4j-api") || e.contains("jtokkit"))
                .filter(e -> !e.contains("test-classes"))
                .map(Path::of).toArray(Path[]::new);
        ModuleFinder finder = ModuleFinder.of(entries);
        ModuleDescriptor backend = finder.find("dev.mue.backend.java").orElseThrow().descriptor();
        assertTrue(backend.provides().stream().anyMatch(p -> p.service().equals(BackendProvider.class.getName())
                && p.providers().contains(JvBackendProvider.class.getName())), backend.provides().toString());
        Configuration cf = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(),
                Set.of("dev.mue.api"));
        assertTrue(cf.findModule("dev.mue.backend.java").isPresent(), "service binding resolves the backend");
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
        Class<?> service;
        try {
            service = layer.findLoader("dev.mue.api").loadClass(BackendProvider.class.getName());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
        List<String> ids = ServiceLoader.load(layer, service).stream()
                .map(p -> p.type().getName()).toList();
        assertEquals(List.of(JvBackendProvider.class.getName()), ids);
    }
}
