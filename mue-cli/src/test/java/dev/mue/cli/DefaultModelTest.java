package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.MueSession;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.text.Vocabulary;
import dev.mue.planner.Planner;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped default model is exactly what {@code mue init --preset mue-demo --seed 20261128
 * --dtype f16} produces, and it loads and validates.
 */
class DefaultModelTest {
    /** The command that produced {@code src/main/resources/dev/mue/cli/default-model}. */
    static final String[] INIT = {"init", "--preset", "mue-demo", "--seed", "20261128", "--dtype", "f16"};
    static final Path SOURCE = Path.of("src", "main", "resources", "dev", "mue", "cli", "default-model");
    static final List<String> FILES = List.of(ModelBundle.CONFIG, ModelBundle.WEIGHTS, ModelBundle.VOCABULARY);

    @Test
    void shippedBundleIsRegeneratedByteForByte(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("default-model");
        String[] args = java.util.Arrays.copyOf(INIT, INIT.length + 1);
        args[INIT.length] = out.toString();
        CliRun r = CliRun.of(args);
        assertEquals(0, r.exitCode(), r::toString);
        for (String f : FILES) {
            byte[] regenerated = Files.readAllBytes(out.resolve(f));
            assertArrayEquals(Files.readAllBytes(SOURCE.resolve(f)), regenerated,
                    f + " differs from what 'mue " + String.join(" ", INIT) + "' writes; regenerate the bundle");
            try (InputStream in = MueCli.class.getClassLoader().getResourceAsStream(MueCli.DEFAULT_MODEL + "/" + f)) {
                assertNotNull(in, "resource " + f);
                assertArrayEquals(in.readAllBytes(), regenerated, "class-path resource " + f);
            }
        }
    }

    @Test
    void loadsAndPassesPlannerValidation() throws IOException {
        Model m = ModelBundle.loadResource(MueCli.class.getClassLoader(), MueCli.DEFAULT_MODEL);
        assertEquals("mue-demo", m.config().name());
        assertEquals(m.vocabulary().size(), m.config().vocabSize());
        assertTrue(m.vocabulary().size() < 1000, "vocabulary of " + m.vocabulary().size());
        for (String a : MueSession.ENTAILMENT_ANSWERS) {
            for (int t : m.tokenizer().encode(" " + a)) {
                assertNotEquals(Vocabulary.UNK, t, "answer " + a);
            }
        }
        for (int t : m.tokenizer().encode(MueSession.CAPTION_PROMPT)) {
            assertNotEquals(Vocabulary.UNK, t, "caption prompt");
        }
        Plan plan = Planner.compile(m, ExitPolicy.paper(), PlanShapes.defaults(m.config()));
        assertTrue(plan.nodes().size() > 10);
        long bytes = 0;
        for (String f : FILES) {
            bytes += Files.size(SOURCE.resolve(f));
        }
        assertTrue(bytes < 8_000_000, "bundle of " + bytes + " bytes");
    }
}
