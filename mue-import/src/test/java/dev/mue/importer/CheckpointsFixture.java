package dev.mue.importer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The checkpoints of {@code scripts/testdata/write_ofa_checkpoints.py}, written once per test JVM
 * into {@code target/ofa-checkpoints} by PyTorch itself ({@code scripts/install-test-deps.sh}
 * installs Debian's python3-torch; {@code ./test} runs it). Tests are skipped, saying why, only
 * where no Python with torch exists at all.
 */
final class CheckpointsFixture {
    private static Path dir;
    private static String unavailable;

    private CheckpointsFixture() {
    }

    /** The directory with the written files; skips the calling test if PyTorch is absent. */
    static synchronized Path dir() {
        if (dir == null && unavailable == null) {
            write();
        }
        assumeTrue(unavailable == null, unavailable);
        return dir;
    }

    /** A file the script wrote. */
    static Path file(String name) {
        return dir().resolve(name);
    }

    private static void write() {
        Path root = TestPython.projectRoot("scripts/testdata/write_ofa_checkpoints.py");
        Path script = root.resolve("scripts/testdata/write_ofa_checkpoints.py");
        String python = TestPython.find("torch");
        if (python == null) {
            unavailable = "no python3 with torch found (tried $MUE_PYTHON, /usr/bin/python3, python3);"
                    + " run scripts/install-test-deps.sh";
            return;
        }
        Path out = root.resolve("mue-import/target/ofa-checkpoints");
        try {
            Files.createDirectories(out);
            Process p = new ProcessBuilder(python, script.toString(), out.toString()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(script + " failed:\n" + log);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + script, e);
        }
        dir = out;
    }
}
