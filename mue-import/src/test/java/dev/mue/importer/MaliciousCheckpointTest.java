package dev.mue.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.MueException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each hostile file is refused with a typed error, and its payload never runs: the payloads would
 * create {@code PWNED} next to the files (the script proves they are live by running one under
 * Python's own pickle), and it must not exist after any import attempt.
 */
class MaliciousCheckpointTest {
    @TempDir
    Path out;

    @BeforeAll
    static void payloadsAreLive() {
        assertTrue(Files.exists(CheckpointsFixture.file("proof_payload_runs.txt")),
                "Python's pickle.loads ran the os.system payload, so it would run if unpickled naively");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "bad_posix_system.pt      | UnsafePickleException      | refers to the Python global posix.system, which is not on mue's allow-list",
            "bad___builtin___eval.pt  | UnsafePickleException      | refers to the Python global __builtin__.eval, which is not on mue's allow-list",
            "bad_builtins_eval.pt     | UnsafePickleException      | refers to the Python global builtins.eval, which is not on mue's allow-list",
            "bad_legacy_system.pt     | UnsafePickleException      | (magic number): pickle refers to the Python global posix.system",
            "bad_nested_system.pt     | UnsafePickleException      | refers to the Python global posix.system",
            "bad_truncated.pt         | CheckpointFormatException  | not a readable zip archive (truncated or damaged?)",
            "bad_legacy_truncated.pt  | CheckpointFormatException  | but the file has",
            "bad_offset_past_data.pt  | CheckpointFormatException  | view (offset 10, shape [4], stride [1]) reaches element 13 of a storage of 4 elements",
            "bad_storage_short.pt     | CheckpointFormatException  | storage 0 declares 1000 F32 elements (4000 bytes) but its entry holds 16 bytes",
            "bad_negative_stride.pt   | CheckpointFormatException  | negative stride in [-2, 1]",
            "bad_shape_overflow.pt    | CheckpointFormatException  | tensor size 1099511627776 in storage 0 exceeds 2147483647",
            "bad_stride_past_data.pt  | CheckpointFormatException  | reaches element 4 of a storage of 4 elements"})
    void refusedWithATypedErrorAndNothingExecuted(String file, String type, String fragment) {
        Path ckpt = CheckpointsFixture.file(file);
        MueException e = assertThrows(MueException.class, () -> OfaImport.importCheckpoint(ckpt,
                CheckpointsFixture.file("dict.txt"), out.resolve("bundle"), ImportOptions.defaults()));
        assertEquals(type, e.getClass().getSimpleName(), e.toString());
        assertTrue(e.getMessage().startsWith(ckpt.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertFalse(Files.exists(CheckpointsFixture.file("PWNED")), "the payload ran");
        assertFalse(Files.exists(out.resolve("bundle")), "nothing was written");
    }

    @Test
    void theAllowListIsNamedInTheRefusal() {
        UnsafePickleException e = assertThrows(UnsafePickleException.class, () -> OfaImport.importCheckpoint(
                CheckpointsFixture.file("bad_posix_system.pt"), CheckpointsFixture.file("dict.txt"), out.resolve("b"),
                ImportOptions.defaults()));
        assertTrue(e.getMessage().contains("(argparse.Namespace, collections.OrderedDict, torch.BFloat16Storage,"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("refused before building anything, nothing was executed"), e.getMessage());
    }
}
