package dev.mue.model.grid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.policy.Task;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model artifact: what it loads, that it loads in memory, and that it is the bundle in its sources. */
class GridModelTest {
    static final Path SOURCES = Path.of("src", "main", "resources", "dev", "mue", "model", "grid", "mue-grid");

    @Test
    void loadsTheTrainedBundleWithItsPoliciesAndTheHashItsCertificatesName() {
        Model m = GridModel.load();
        assertEquals("classpath:dev/mue/model/grid/mue-grid", m.source());
        assertEquals(6, m.config().encoderLayers());
        assertEquals(128, m.config().dModel());
        assertFalse(m.policies().isEmpty(), "the shipped model carries its calibrated policy.json");
        assertTrue(m.policies().forTask(Task.ENTAIL).isPresent());
        assertEquals(ModelBundle.sha256(SOURCES), m.sha256(), "same bytes, same model hash as the directory");
    }

    /**
     * Loads the model in a child JVM whose temporary folder is empty, and checks it stays empty: a
     * load killed half-way (issue: SIGTERM during start-up) has nothing to leave behind.
     */
    @Test
    void loadingWritesNothingToTheTemporaryFolder(@TempDir Path tmp) throws Exception {
        Path tmpdir = Files.createDirectory(tmp.resolve("java-tmp"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Djava.io.tmpdir=" + tmpdir, "-cp", System.getProperty("java.class.path"),
                Loader.class.getName()).redirectErrorStream(true).redirectOutput(tmp.resolve("out.txt").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        String out = Files.readString(tmp.resolve("out.txt"));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("loaded mue-grid"), out);
        try (var files = Files.list(tmpdir)) {
            assertEquals(List.of(), files.map(Path::getFileName).map(Path::toString).toList());
        }
        assertTrue(new File(tmpdir.toString()).isDirectory());
    }

    /** The child JVM's entry point. */
    static final class Loader {
        public static void main(String[] args) {
            System.out.println("loaded " + GridModel.load().config().name());
        }
    }
}
