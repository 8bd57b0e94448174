package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mue train} on the real Fashion-MNIST tasks (installed by ./test), a few steps. */
class TrainCommandTest {

    @Test
    void aShortRunWritesACheckpointAndABundleTheOtherCommandsLoad(@TempDir Path dir) {
        CliRun r = CliRun.of("train", "--out", dir.toString(), "--steps", "3", "--batch-size", "2",
                "--checkpoint-every", "2", "--validate-every", "2", "--validation-examples", "2");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("validation step 2: loss ")), r.out());
        assertTrue(r.out().contains("trained 3 steps in "), r.out());
        assertTrue(r.err().contains("3/3 loss "), "progress bar on stderr: " + r.err());
        Model m = ModelBundle.load(dir.resolve("model"));
        assertEquals("mue-grid", m.config().name());
        CliRun caption = CliRun.of("caption", "--model", dir.resolve("model").toString(),
                SampleImagesFixture.SAMPLES.resolve("grid.png").toString());
        assertEquals(0, caption.exitCode(), caption.toString());
        CliRun again = CliRun.of("train", "--out", dir.toString(), "--steps", "3", "--batch-size", "2");
        assertEquals(1, again.exitCode(), again.toString());
        assertTrue(again.err().startsWith("mue: error: " + dir + " already holds a run"), again.err());
        CliRun resumed = CliRun.of("train", "--out", dir.toString(), "--steps", "3", "--batch-size", "2", "--resume",
                "--validation-examples", "2");
        assertEquals(0, resumed.exitCode(), resumed.toString());
        assertTrue(resumed.out().startsWith("resuming from " + dir.resolve("checkpoint") + " at step 3"), resumed.out());
    }

    @Test
    void badSettingsAreAUsageError(@TempDir Path dir) {
        CliRun r = CliRun.of("train", "--out", dir.toString(), "--steps", "0");
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(2, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("mue: invalid training settings"), r.err());
    }
}
