package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mue import}'s command line: usage errors, and the importer's typed errors as the CLI's one
 * line. Imports of real PyTorch-written checkpoints are tested in mue-import.
 */
class ImportCommandTest {
    @TempDir
    Path dir;

    @Test
    void outAndDictAreRequired() {
        CliRun r = CliRun.of("import", "x.pt", "--out", dir.resolve("b").toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("Missing required option: '--dict=DICT'"), r.toString());
    }

    @Test
    void aMissingCheckpointIsOneErrorLine() {
        Path ckpt = dir.resolve("none.pt");
        CliRun r = CliRun.of("import", ckpt.toString(), "--out", dir.resolve("b").toString(), "--dict",
                dir.resolve("dict.txt").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(java.util.List.of("mue: error: checkpoint not found: " + ckpt), r.errLines());
    }

    @Test
    void aHostilePickleIsRefusedAndNothingIsWritten() throws IOException {
        // torch.save's zip layout around a pickle of os.system("touch PWNED"): GLOBAL 'posix system'
        Path marker = dir.resolve("PWNED");
        byte[] cmd = ("touch " + marker).getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream pkl = new java.io.ByteArrayOutputStream();
        pkl.writeBytes(new byte[] {(byte) 0x80, 2});
        pkl.writeBytes("cposix\nsystem\n".getBytes(StandardCharsets.US_ASCII));
        pkl.write('X');
        pkl.writeBytes(new byte[] {(byte) cmd.length, 0, 0, 0});
        pkl.writeBytes(cmd);
        pkl.writeBytes(new byte[] {(byte) 0x85, 'R', '.'});
        Path ckpt = dir.resolve("evil.pt");
        try (OutputStream f = Files.newOutputStream(ckpt); ZipOutputStream z = new ZipOutputStream(f)) {
            z.putNextEntry(new ZipEntry("evil/data.pkl"));
            z.write(pkl.toByteArray());
            z.closeEntry();
        }
        Path out = dir.resolve("bundle");
        CliRun r = CliRun.of("import", ckpt.toString(), "--out", out.toString(), "--dict", dir.resolve("d.txt").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("mue: error: " + ckpt + " (evil/data.pkl): pickle refers to the Python global"
                + " posix.system, which is not on mue's allow-list"), r.toString());
        assertFalse(Files.exists(marker), "the payload ran");
        assertFalse(Files.exists(out), "nothing was written");
    }
}
