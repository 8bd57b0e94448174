package dev.mue.backend.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
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
 * The provider is registered both ways (design §1, §6) and selected by id: in
 * {@code META-INF/services} for the class path, with {@code provides} in {@code module-info} for
 * the module path (where TensorFlow Java's API is the named module {@code tensorflow}), each checked
 * by loading it that way; {@code -Dmue.backend=tf} selects it.
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
                        .contains(TfBackendProvider.class.getName());
            }
        }
        assertTrue(listed, "META-INF/services lists TfBackendProvider");
        Backends.ProviderStatus s = Backends.statuses().stream().filter(x -> x.provider().id().equals("tf"))
                .findFirst().orElseThrow();
        assertTrue(s.availability().available(), s.availability().reason());
        assertTrue(s.provider().priority() < 10, "below the Java backend: tf runs when asked for");
        assertTrue(s.provider().capabilities().compiledBranches(), "gates compiled into the graphs");
    }

    @Test
    void foundOnTheModulePathThroughModuleInfo() {
        // A fresh module layer over this build's classes and their dependencies: only the module
        // descriptors can make the provider visible here. The natives jar stays out: nothing
        // requires it, which is why it belongs on the class path.
        Path[] entries = classPath().stream()
                .filter(e -> e.contains("mue-api") || e.contains("mue-backend-tf") || e.contains("jackson")
                        || e.contains("slf4j-api") || e.contains("jtokkit") || e.contains("/org/tensorflow/")
                        || e.contains("/org/bytedeco/") || e.contains("protobuf-java"))
                .filter(e -> !e.contains("test-classes") && !e.contains("linux-x86_64"))
                .map(Path::of).toArray(Path[]::new);
        ModuleFinder finder = ModuleFinder.of(entries);
        ModuleDescriptor backend = finder.find("dev.mue.backend.tf").orElseThrow().descriptor();
        assertTrue(backend.provides().stream().anyMatch(p -> p.service().equals(BackendProvider.class.getName())
                && p.providers().contains(TfBackendProvider.class.getName())), backend.provides().toString());
        assertTrue(backend.requires().stream().anyMatch(r -> r.name().equals("tensorflow")),
                "requires TensorFlow Java's module 'tensorflow': " + backend.requires());
        Configuration cf = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(),
                Set.of("dev.mue.api"));
        assertTrue(cf.findModule("dev.mue.backend.tf").isPresent(), "service binding resolves the backend");
        assertTrue(cf.findModule("tensorflow").isPresent(), "and TensorFlow Java with it");
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
        Class<?> service;
        try {
            service = layer.findLoader("dev.mue.api").loadClass(BackendProvider.class.getName());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
        List<String> ids = ServiceLoader.load(layer, service).stream().map(p -> p.type().getName()).toList();
        assertEquals(List.of(TfBackendProvider.class.getName()), ids);
    }

    @Test
    void theNativesJarIsAnAutomaticModuleNothingRequires() {
        Path natives = classPath().stream().filter(e -> e.contains("tensorflow-core-native") && e.contains("linux-x86_64"))
                .map(Path::of).findFirst()
                .orElseThrow(() -> new AssertionError("tensorflow-core-native (linux-x86_64) is on the test class path"));
        ModuleDescriptor d = ModuleFinder.of(natives).findAll().iterator().next().descriptor();
        assertTrue(d.isAutomatic(), d.toString());
        Path[] tf = classPath().stream().filter(e -> e.contains("/org/tensorflow/") && !e.contains("linux-x86_64"))
                .map(Path::of).toArray(Path[]::new);
        for (var ref : ModuleFinder.of(tf).findAll()) {
            assertFalse(ref.descriptor().requires().stream().anyMatch(r -> r.name().equals(d.name())),
                    ref.descriptor().name() + " requires " + d.name());
        }
    }

    @Test
    void selectedByTheSystemProperty() {
        String before = System.getProperty(Backends.PROPERTY);
        System.setProperty(Backends.PROPERTY, "tf");
        try {
            assertEquals("tf", Backends.choose(null).id());
            try (Backend b = Backends.create(null, BackendOptions.defaults())) {
                assertEquals("tf", b.id());
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
