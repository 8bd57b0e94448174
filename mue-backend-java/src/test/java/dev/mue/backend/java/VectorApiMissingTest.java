package dev.mue.backend.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.spi.BackendOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without {@code --add-modules jdk.incubator.vector} the backend runs its scalar kernels; it says so
 * once on stderr (a library user may have no SLF4J binding) and in its capabilities.
 */
class VectorApiMissingTest {

    @Test
    void theScalarFallbackIsAnnouncedOnceAndInTheCapabilities(@TempDir Path tmp) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path out = tmp.resolve("out.txt");
        Path err = tmp.resolve("err.txt");
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Child.class.getName())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), Files.readString(err));
        assertEquals(List.of("naive", "naive", "[" + JvBackend.SCALAR_NOTE + "]"), Files.readAllLines(out));
        List<String> warnings = Files.readAllLines(err).stream().filter(l -> l.startsWith("mue: warning:")).toList();
        assertEquals(List.of("mue: warning: java backend: " + JvBackend.SCALAR_NOTE), warnings, "once, not per backend");
        assertEquals(List.of(), new JvBackendProvider().capabilities().notes(), "this JVM has the Vector API");
    }

    /** Opens two backends in a JVM without the Vector API and prints their kernels and the notes. */
    static final class Child {
        public static void main(String[] args) {
            for (int i = 0; i < 2; i++) {
                try (JvBackend b = new JvBackend(BackendOptions.defaults().withThreads(1))) {
                    System.out.println(b.kernels().name());
                }
            }
            System.out.println(new JvBackendProvider().capabilities().notes());
        }
    }
}
