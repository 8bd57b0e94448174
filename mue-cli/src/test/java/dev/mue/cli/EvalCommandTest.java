package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mue eval} on the real Fashion-MNIST tasks (installed by ./test) with the bundled model. */
class EvalCommandTest {

    @Test
    void sweepWritesTheTableAndThePlot(@TempDir Path dir) throws Exception {
        CliRun r = CliRun.of("eval", "--task", "ve", "--sweep", "--split", "validation", "--examples", "6",
                "--batch-size", "3", "--out", dir.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("| full model |") && r.out().contains("w/o decomposition"), r.out());
        // the progress bar: drawn on stderr at the start and the end at least, then erased
        assertTrue(r.err().contains("] 0/") && r.err().contains(" examples, ") && r.err().contains("eta "), r.err());
        assertTrue(r.err().endsWith("\r"), "the bar is erased: " + r.err());
        String md = Files.readString(dir.resolve("eval-ve.md"));
        assertTrue(md.startsWith("Visual entailment on 6 validation examples"), md);
        assertEquals(6, md.lines().filter(l -> l.startsWith("| ") && !l.startsWith("| model")).count(),
                "full model, four MuE points, joint encoder: " + md);
        assertTrue(Files.size(dir.resolve("eval-ve.png")) > 1000);
    }

    @Test
    void badTaskIsAUsageError(@TempDir Path dir) {
        CliRun r = CliRun.of("eval", "--task", "vqa", "--out", dir.toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(2, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("mue: --task must be ve or caption"), r.err());
    }
}
