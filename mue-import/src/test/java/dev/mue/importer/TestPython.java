package dev.mue.importer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Finds what this module's tests run: a Python interpreter with the packages a test needs
 * (Debian's python3-torch and python3-pil live in the system interpreter, which a pyenv or venv
 * {@code python3} on PATH hides), and the project's root.
 */
final class TestPython {
    private TestPython() {
    }

    /**
     * The first of {@code $MUE_PYTHON}, {@code /usr/bin/python3} and {@code python3} that can
     * {@code import modules} (e.g. {@code "torch"} or {@code "PIL"}), or null if none can.
     */
    static String find(String modules) {
        List<String> candidates = new ArrayList<>();
        String env = System.getenv("MUE_PYTHON");
        if (env != null && !env.isBlank()) {
            candidates.add(env);
        }
        candidates.add("/usr/bin/python3");
        candidates.add("python3");
        for (String c : candidates) {
            try {
                Process p = new ProcessBuilder(c, "-c", "import " + modules).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return c;
                }
            } catch (IOException e) {
                // not installed under this name; try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    /** The project root: the first folder at or above the working directory that holds {@code marker}. */
    static Path projectRoot(String marker) {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve(marker))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find the project root (with " + marker + ") above "
                    + Path.of("").toAbsolutePath());
        }
        return p;
    }
}
