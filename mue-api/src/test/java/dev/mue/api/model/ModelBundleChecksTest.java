package dev.mue.api.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.ModelFormatException;
import dev.mue.api.WeightMismatchException;
import dev.mue.api.tensor.DType;
import dev.mue.api.text.Vocabulary;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a bundle loader does with files that lie: a weights checksum that no longer matches, a
 * config far larger than its weights, sizes that overflow an int, and a bundle held in memory.
 */
class ModelBundleChecksTest {

    private static final ModelConfig CONFIG = new ModelConfig("checks", 32, 1, 1, 4, 8, 64, 16, 8, 4, 32,
            new ResNetConfig(4, 4, new int[] {1, 1, 1}), 2.0, 1e-5);

    private static Path bundle(Path dir) throws IOException {
        Vocabulary v = Vocabulary.fromCorpus(List.of("a coat and a dress", "yes no maybe"), 60);
        ModelBundle.write(dir, CONFIG, RandomWeights.generate(CONFIG, 1), v, DType.F16);
        return dir;
    }

    @Test
    void writeAddsAChecksumThatSha256sumWouldAccept(@TempDir Path tmp) throws Exception {
        Path dir = bundle(tmp.resolve("b"));
        String line = Files.readString(dir.resolve(ModelBundle.CHECKSUM));
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        String hex = java.util.HexFormat.of().formatHex(md.digest(Files.readAllBytes(dir.resolve(ModelBundle.WEIGHTS))));
        assertEquals(hex + "  model.safetensors\n", line);
        ModelBundle.load(dir);
    }

    @Test
    void weightsChangedAfterWritingAreRefusedNamingBothFiles(@TempDir Path tmp) throws Exception {
        Path dir = bundle(tmp.resolve("b"));
        Path weights = dir.resolve(ModelBundle.WEIGHTS);
        byte[] b = Files.readAllBytes(weights);
        b[b.length - 2] ^= 0x40; // one bit of the last tensor: still a well-formed file
        Files.write(weights, b);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelBundle.load(dir));
        assertTrue(e.getMessage().startsWith(weights + ": SHA-256 "), e.getMessage());
        assertTrue(e.getMessage().contains("in " + dir.resolve(ModelBundle.CHECKSUM)), e.getMessage());
        Files.delete(dir.resolve(ModelBundle.CHECKSUM));
        ModelBundle.load(dir); // without a checksum nothing can tell: the documented limit
    }

    @Test
    void aMalformedChecksumFileIsNamed(@TempDir Path tmp) throws Exception {
        Path dir = bundle(tmp.resolve("b"));
        Files.writeString(dir.resolve(ModelBundle.CHECKSUM), "not-a-hash model.safetensors\n");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelBundle.load(dir));
        assertEquals(dir.resolve(ModelBundle.CHECKSUM) + ": expected a SHA-256 (64 hex digits, as sha256sum writes it)",
                e.getMessage());
    }

    @Test
    void aConfigFarLargerThanItsWeightsFailsInOneLineBeforeListingTensors(@TempDir Path tmp) throws Exception {
        Path dir = bundle(tmp.resolve("b"));
        Path config = dir.resolve(ModelBundle.CONFIG);
        Files.writeString(config, Files.readString(config).replace("\"encoder_layers\" : 1", "\"encoder_layers\" : 100000"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelBundle.load(dir));
        assertTrue(e.getMessage().startsWith(config + " describes a model of more than "), e.getMessage());
        assertTrue(e.getMessage().contains("encoder_layers 100000"), e.getMessage());
        assertTrue(e.getMessage().length() < 400, e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void sizesThatOverflowAnIntAreRefusedNotPrintedNegative(@TempDir Path tmp) throws Exception {
        Path dir = bundle(tmp.resolve("b"));
        Path config = dir.resolve(ModelBundle.CONFIG);
        String text = Files.readString(config);
        Files.writeString(config, text.replace("\"token_bucket_size\" : 8", "\"token_bucket_size\" : 2000000000"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelBundle.load(dir));
        assertEquals(config + ": inconsistent model config: (2 token_bucket_size - 1) x heads (relative position table)"
                + " is 3999999999 x 4 = 15999999996 elements, more than the limit of 2147483639 for one tensor",
                e.getMessage());
        Files.writeString(config, text.replace("\"max_positions\" : 16", "\"max_positions\" : 2147483647"));
        e = assertThrows(ModelFormatException.class, () -> ModelBundle.load(dir));
        assertTrue(e.getMessage().contains("(max_positions + 2) x d_model (position table) is 2147483649 x 32"),
                e.getMessage());
        assertFalse(e.getMessage().matches(".*[ \\[]-\\d.*"), "no negative size: " + e.getMessage());
    }

    @Test
    void aListOfProblemsIsCappedAndCounted() {
        List<String> problems = new ArrayList<>();
        IntStream.range(0, 2_000).forEach(i -> problems.add("missing t" + i));
        WeightMismatchException e = new WeightMismatchException(problems);
        assertEquals(2_000, e.total());
        assertEquals(WeightMismatchException.MAX_LISTED, e.problems().size());
        assertTrue(e.getMessage().startsWith("2000 weight problem(s), the first 20: missing t0; "), e.getMessage());
        assertTrue(e.getMessage().endsWith("missing t19"), e.getMessage());
    }

    @Test
    void aBundleInMemoryLoadsAsFromItsDirectoryAndChecksTheSame(@TempDir Path tmp) throws Exception {
        Path dir = bundle(tmp.resolve("b"));
        Model fromDisk = ModelBundle.load(dir);
        Model fromMemory = ModelBundle.loadResources("mem:b", f -> Files.exists(dir.resolve(f))
                ? Files.newInputStream(dir.resolve(f)) : null);
        assertEquals("mem:b", fromMemory.source());
        assertEquals(fromDisk.sha256(), fromMemory.sha256(), "the certificate hash does not depend on where bytes come from");
        assertEquals(fromDisk.config(), fromMemory.config());
        for (String n : fromDisk.weights().names()) {
            assertEquals(fromDisk.weights().get(n), fromMemory.weights().get(n));
        }
        byte[] w = Files.readAllBytes(dir.resolve(ModelBundle.WEIGHTS));
        w[w.length - 1] ^= 1;
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelBundle.loadResources("mem:b",
                f -> f.equals(ModelBundle.WEIGHTS) ? new ByteArrayInputStream(w)
                        : Files.exists(dir.resolve(f)) ? Files.newInputStream(dir.resolve(f)) : null));
        assertTrue(e.getMessage().startsWith("mem:b/model.safetensors: SHA-256 "), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> ModelBundle.loadResources("mem:x", f -> null));
        assertEquals("bundled model resource missing: mem:x/config.json", e.getMessage());
    }
}
