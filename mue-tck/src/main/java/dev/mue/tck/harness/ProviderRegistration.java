package dev.mue.tck.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.BackendProvider;
import dev.mue.api.spi.Backends;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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
import java.util.function.Predicate;

/**
 * A backend provider is registered both ways (design §1, §6) and selected by id: listed in
 * {@code META-INF/services} for the class path, declared with {@code provides} in
 * {@code module-info} for the module path, each checked by actually loading it that way, and
 * chosen by {@code -Dmue.backend=ID}.
 */
public final class ProviderRegistration {
    private ProviderRegistration() {
    }

    /** The test JVM's class path entries. */
    public static List<String> classPath() {
        return Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
    }

    /**
     * Checks that {@code META-INF/services} lists {@code provider} and that {@link Backends} finds it
     * available under {@code id}; returns its status for backend-specific checks.
     */
    public static Backends.ProviderStatus assertOnTheClassPath(Class<? extends BackendProvider> provider, String id) {
        boolean listed = false;
        try {
            List<URL> files = Collections.list(provider.getClassLoader()
                    .getResources("META-INF/services/" + BackendProvider.class.getName()));
            for (URL u : files) {
                try (InputStream in = u.openStream()) {
                    listed |= new String(in.readAllBytes(), StandardCharsets.UTF_8).contains(provider.getName());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertTrue(listed, "META-INF/services lists " + provider.getSimpleName());
        Backends.ProviderStatus s = Backends.statuses().stream().filter(x -> x.provider().id().equals(id))
                .findFirst().orElseThrow(() -> new AssertionError("no provider with id '" + id + "'"));
        assertEquals(provider, s.provider().getClass(), "the provider of '" + id + "'");
        assertTrue(s.availability().available(), s.availability().reason());
        return s;
    }

    /**
     * Builds a fresh module layer over the class path entries that {@code entries} accepts (this
     * build's classes and the backend's dependencies, never test classes), in which only module
     * descriptors can make a provider visible, and checks that service binding from
     * {@code dev.mue.api} resolves {@code module} (and every module of {@code alsoResolved}) and
     * that {@link ServiceLoader} finds exactly {@code provider}; returns the backend's descriptor.
     */
    public static ModuleDescriptor assertOnTheModulePath(Class<? extends BackendProvider> provider, String module,
            Predicate<String> entries, String... alsoResolved) {
        Path[] paths = classPath().stream().filter(entries).filter(e -> !e.contains("test-classes")).map(Path::of)
                .toArray(Path[]::new);
        ModuleFinder finder = ModuleFinder.of(paths);
        ModuleDescriptor backend = finder.find(module)
                .orElseThrow(() -> new AssertionError("module " + module + " is not among " + Arrays.toString(paths)))
                .descriptor();
        assertTrue(backend.provides().stream().anyMatch(p -> p.service().equals(BackendProvider.class.getName())
                && p.providers().contains(provider.getName())), backend.provides().toString());
        Configuration cf = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(),
                Set.of("dev.mue.api"));
        assertTrue(cf.findModule(module).isPresent(), "service binding resolves " + module);
        for (String m : alsoResolved) {
            assertTrue(cf.findModule(m).isPresent(), "and " + m + " with it");
        }
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
        Class<?> service;
        try {
            service = layer.findLoader("dev.mue.api").loadClass(BackendProvider.class.getName());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
        List<String> found = ServiceLoader.load(layer, service).stream().map(p -> p.type().getName()).toList();
        assertEquals(List.of(provider.getName()), found);
        return backend;
    }

    /**
     * Checks that {@code -Dmue.backend=id} selects the backend and that it opens on
     * {@code device}; the property is restored afterwards.
     */
    public static void assertSelectedByTheSystemProperty(String id, String device) {
        String before = System.getProperty(Backends.PROPERTY);
        System.setProperty(Backends.PROPERTY, id);
        try {
            assertEquals(id, Backends.choose(null).id());
            try (Backend b = Backends.create(null, BackendOptions.defaults())) {
                assertEquals(id, b.id());
                assertEquals(device, b.device());
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
