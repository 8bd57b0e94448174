package dev.mue.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One scratch file per JVM for the readers that take a path; rewritten for every input. */
final class Scratch {
    private static Path dir;

    private Scratch() {
    }

    /** Writes {@code data} to a file named {@code name} in this JVM's scratch folder and returns it. */
    static synchronized Path file(String name, byte[] data) {
        try {
            if (dir == null) {
                dir = Files.createTempDirectory("mue-fuzz");
                dir.toFile().deleteOnExit();
            }
            Path f = dir.resolve(name);
            Files.write(f, data);
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
