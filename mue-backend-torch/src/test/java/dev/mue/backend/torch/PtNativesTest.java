package dev.mue.backend.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.mue.api.BackendUnavailableException;
import dev.mue.api.spi.Availability;
import dev.mue.api.spi.BackendOptions;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Availability without loading natives, its reasons when something is missing, and device choice. */
class PtNativesTest {

    private static URL jar(String part) throws MalformedURLException {
        String e = Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(s -> s.contains(part)).findFirst().orElseThrow();
        return Path.of(e).toUri().toURL();
    }

    @Test
    void availableWithTheJarsOfThisBuild() {
        Availability a = PtNatives.check(getClass().getClassLoader());
        assertTrue(a.available(), a.reason());
    }

    @Test
    void missingJniJarIsReportedWithTheArtifactToAdd() throws Exception {
        try (URLClassLoader none = new URLClassLoader(new URL[0], ClassLoader.getPlatformClassLoader())) {
            Availability a = PtNatives.check(none);
            assertFalse(a.available());
            assertTrue(a.reason().contains("pytorch-jni"), a.reason());
        }
    }

    @Test
    void missingNativesAreReportedWithTheArtifactAndWhereItBelongs() throws Exception {
        try (URLClassLoader jniOnly = new URLClassLoader(new URL[] {jar("pytorch-jni")},
                ClassLoader.getPlatformClassLoader())) {
            Availability a = PtNatives.check(jniOnly);
            assertFalse(a.available());
            assertTrue(a.reason().contains("pytorch-native-cpu") && a.reason().contains("class path"), a.reason());
        }
    }

    @Test
    void devicesAreChosenAndRefusedByName() {
        Engine e = PtNatives.start(BackendOptions.defaults());
        assertEquals(Device.cpu(), PtNatives.device(e, "cpu"));
        if (e.getGpuCount() == 0) {
            assertEquals(Device.cpu(), PtNatives.device(e, ""));
            BackendUnavailableException x = assertThrows(BackendUnavailableException.class,
                    () -> PtNatives.device(e, "cuda:0"));
            assertTrue(x.getMessage().contains("PYTORCH_LIBRARY_PATH"), x.getMessage());
            assertEquals(java.util.List.of("cpu"), PtBackendProvider.devices());
        } else {
            assertEquals(Device.gpu(0), PtNatives.device(e, ""));
            assertEquals("cuda:0", PtBackendProvider.devices().get(0));
        }
        BackendUnavailableException x = assertThrows(BackendUnavailableException.class,
                () -> PtNatives.device(e, "tpu"));
        assertTrue(x.getMessage().contains("cpu, cuda or cuda:N"), x.getMessage());
        assertEquals("true", System.getProperty("ai.djl.offline"), "the engine runs offline");
    }
}
