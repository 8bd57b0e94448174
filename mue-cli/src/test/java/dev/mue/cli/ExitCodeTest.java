package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exit codes as documented in {@code --help} and the README: usage errors (picocli's own and option
 * values out of range alike) exit 2 with {@code mue: ...} and a hint; runtime failures exit 1 with
 * one {@code mue: error: ...} line; output that cannot be written fails the command.
 */
class ExitCodeTest {
    private static final String IMAGE = SampleImagesFixture.SAMPLES.resolve("fmnist-test-0.png").toString();

    private static void usageError(String expectedFirstLine, String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(MueCli.EXIT_USAGE, r.exitCode(), r.toString());
        assertEquals(2, r.errLines().size(), r.toString());
        assertEquals(expectedFirstLine, r.errLines().get(0));
        assertTrue(r.errLines().get(1).startsWith("Try 'mue "), r.toString());
        assertEquals("", r.out());
    }

    @Test
    void invalidOptionValuesAreUsageErrorsLikeUnknownFlags() {
        usageError("mue: Unknown option: '--no-such-flag'", "caption", IMAGE, "--no-such-flag");
        usageError("mue: --threads must be 0 (one per core) to 1024, got 32768", "caption", IMAGE, "--threads", "32768");
        usageError("mue: --threads must be 0 (one per core) to 1024, got -1", "caption", IMAGE, "--threads", "-1");
        usageError("mue: --beam must be 1 or more, got 0", "caption", IMAGE, "--beam", "0");
        usageError("mue: --bos must be ban or allow, got 'maybe'", "caption", IMAGE, "--bos", "maybe");
        usageError("mue: image threshold must be in [-1, 1] (cosine similarity), got 1.5", "caption", IMAGE,
                "--image-threshold", "1.5");
        CliRun backend = CliRun.of("entail", IMAGE, "--hypothesis", "a bag", "--backend", "nosuch");
        assertEquals(MueCli.EXIT_USAGE, backend.exitCode(), backend.toString());
        assertTrue(backend.errLines().get(0).startsWith("mue: unknown backend 'nosuch' for --backend; known backends: ["),
                backend.toString());
        usageError("mue: Invalid value for option '--threads': 'many' is not an int", "caption", IMAGE, "--threads", "many");
    }

    @Test
    void runtimeFailuresExitOneWithOneLine() {
        CliRun r = CliRun.of("caption", "no-such.png");
        assertEquals(MueCli.EXIT_FAILURE, r.exitCode(), r.toString());
        assertEquals(List.of("mue: error: image file not found: no-such.png"), r.errLines());
    }

    @Test
    void helpDocumentsTheExitCodes() {
        for (String[] args : List.of(new String[] {"--help"}, new String[] {"caption", "--help"})) {
            CliRun r = CliRun.of(args);
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.out().contains("Exit codes:"), r.out());
            assertTrue(r.out().contains("  2   Usage error"), r.out());
            assertTrue(r.out().contains("  1   Runtime failure"), r.out());
        }
    }

    /** Every command's help prints without picocli's warnings (train's had an unescaped %). */
    @Test
    void everyHelpPrintsWithoutWarnings() {
        // picocli's own warnings go to System.err, not to the command's error writer
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream system = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(system, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            for (String c : List.of("caption", "entail", "plan", "backends", "init", "import", "eval", "calibrate",
                    "train", "serve")) {
                CliRun r = CliRun.of(c, "--help");
                assertEquals(0, r.exitCode(), r.toString());
                assertEquals("", r.err(), c + " --help");
            }
        } finally {
            System.setErr(saved);
        }
        assertEquals("", system.toString(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(CliRun.of("caption", "--help").out().replaceAll("\\s+", " ").contains("the bundled, trained mue-grid model"));
    }

    /** The case: {@code mue ... > /dev/full} exited 0 having written nothing. */
    @Test
    void outputThatCannotBeWrittenFailsTheCommand(@TempDir Path tmp) throws Exception {
        File full = new File("/dev/full");
        org.junit.jupiter.api.Assumptions.assumeTrue(full.exists(), "needs Linux /dev/full");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path err = tmp.resolve("err.txt");
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), MueCli.class.getName(),
                "--version").redirectOutput(full).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(MueCli.EXIT_FAILURE, p.exitValue());
        assertEquals(List.of("mue: error: cannot write the output: No space left on device"), Files.readAllLines(err));
    }
}
