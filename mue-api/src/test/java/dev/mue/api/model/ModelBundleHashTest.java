package dev.mue.api.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.PolicyFormatException;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.tensor.DType;
import dev.mue.api.text.Vocabulary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bundle's hash (what certificates name it by) and its optional policy.json. */
class ModelBundleHashTest {

    private static Path bundle(Path dir) throws Exception {
        ModelConfig c = new ModelConfig("hash-test", 32, 1, 1, 4, 8, 64, 16, 8, 4, 32,
                new ResNetConfig(4, 4, new int[] {1, 1, 1}), 2.0, 1e-5);
        Vocabulary v = Vocabulary.fromCorpus(List.of("a coat and a dress", "yes no maybe"), 60);
        ModelBundle.write(dir, c, RandomWeights.generate(c, 1), v, DType.F16);
        return dir;
    }

    @Test
    void hashIsOverTheModelFilesNotThePolicy(@TempDir Path tmp) throws Exception {
        Path dir = bundle(tmp.resolve("b"));
        Model m = ModelBundle.load(dir);
        assertEquals(ModelBundle.sha256(dir), m.sha256());
        assertTrue(m.policies().isEmpty());
        Files.writeString(dir.resolve(PolicyFile.NAME), """
                {"format": "mue-policy", "version": 1,
                 "entail": {"image_threshold": 1, "text_threshold": 1, "decoder": {"schedule": "fixed", "theta": 0.9}}}
                """);
        Model withPolicy = ModelBundle.load(dir);
        assertEquals(m.sha256(), withPolicy.sha256(), "policy.json is not part of the model");
        assertEquals(ModelBundle.POLICY_SOURCE, withPolicy.policies().source());
        assertEquals(0.9, withPolicy.policies().entail().policy().decoderSchedule().theta());
        Files.writeString(dir.resolve(ModelBundle.VOCABULARY), Files.readString(dir.resolve(ModelBundle.VOCABULARY)) + "zebra 1\n");
        assertNotEquals(m.sha256(), ModelBundle.sha256(dir), "a changed vocabulary is another model");
        assertNull(new Model(m.config(), m.weights(), m.vocabulary(), "memory").sha256());
    }

    @Test
    void aBadPolicyFileFailsTheLoadNamingIt(@TempDir Path tmp) throws Exception {
        Path dir = bundle(tmp.resolve("b"));
        Files.writeString(dir.resolve(PolicyFile.NAME), "{\"format\": \"mue-policy\", \"version\": 1, \"vqa\": {}}");
        PolicyFormatException e = assertThrows(PolicyFormatException.class, () -> ModelBundle.load(dir));
        assertEquals(dir.resolve(PolicyFile.NAME) + ": unknown key 'vqa'", e.getMessage());
    }
}
