package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.EntailmentResult;
import dev.mue.api.GenerationResult;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.safetensors.SafetensorsFile;
import dev.mue.api.tensor.DType;
import dev.mue.api.text.Vocabulary;
import dev.mue.planner.Planner;
import dev.mue.train.data.FashionMnist;
import dev.mue.train.trainer.GridTraining;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shipped default model is the trained recipe ({@code mue train}, see the README): its
 * architecture and vocabulary are the recipe's, its weights are not the initial ones, and it has
 * learnt both tasks: it captions the shipped test-split samples and answers entailment questions
 * about them (a random or image-blind model fails both). It ships calibrated exit policies whose
 * certificates were made on these very weights.
 */
class DefaultModelTest {
    static final Path SOURCE = Path.of("..", "mue-model-grid", "src", "main", "resources", "dev", "mue", "model", "grid", "mue-grid");
    static final List<String> FILES = List.of(ModelBundle.CONFIG, ModelBundle.WEIGHTS, ModelBundle.VOCABULARY);

    private static Model model() {
        return ModelBundle.loadResource(MueCli.class.getClassLoader(), MueCli.DEFAULT_MODEL);
    }

    @Test
    void isTheTrainedRecipeAndPassesPlannerValidation() throws IOException {
        Model m = model();
        assertEquals(GridTraining.vocabulary(), m.vocabulary());
        assertEquals(GridTraining.config(m.vocabulary().size()), m.config());
        for (String a : MueSession.ENTAILMENT_ANSWERS) {
            for (int t : m.tokenizer().encode(" " + a)) {
                assertNotEquals(Vocabulary.UNK, t, "answer " + a);
            }
        }
        for (int t : m.tokenizer().encode(MueSession.CAPTION_PROMPT)) {
            assertNotEquals(Vocabulary.UNK, t, "caption prompt");
        }
        String w = "decoder.layers.3.fc1.weight";
        assertFalse(Arrays.equals(GridTraining.initialModel(TrainingFacts.SEED).weights().data(w), m.weights().data(w)),
                "the shipped weights are trained, not the initial ones");
        try (SafetensorsFile f = SafetensorsFile.open(SOURCE.resolve(ModelBundle.WEIGHTS))) {
            assertEquals(DType.F16, f.info(w).dtype());
        }
        Plan plan = Planner.compile(m, ExitPolicy.paper(), PlanShapes.defaults(m.config()));
        assertTrue(plan.nodes().size() > 10);
        long bytes = 0;
        for (String f : FILES) {
            bytes += Files.size(SOURCE.resolve(f));
        }
        assertTrue(bytes < 8_000_000, "bundle of " + bytes + " bytes");
    }

    @Test
    void captionsTheShippedTestSplitSamples() throws IOException {
        List<String> lines = Files.readAllLines(SampleImagesFixture.SAMPLES.resolve(TestSplitSamples.LISTING));
        List<Path> images = new ArrayList<>();
        List<String> refs = new ArrayList<>();
        for (String l : lines) {
            if (!l.startsWith("#")) {
                String[] f = l.split(" \\| ");
                images.add(SampleImagesFixture.SAMPLES.resolve(f[0]));
                refs.add(f[1]);
            }
        }
        int exact = 0;
        try (MueSession s = Mue.session().model(model()).backend("java").policy(ExitPolicy.full()).open()) {
            List<GenerationResult> out = s.captionBatch(images);
            for (int i = 0; i < images.size(); i++) {
                exact += normalised(out.get(i).text()).equals(normalised(refs.get(i))) ? 1 : 0;
            }
            assertTrue(exact >= TrainingFacts.MIN_EXACT_SAMPLE_CAPTIONS, exact + " of " + images.size()
                    + " captions exact: " + out.stream().map(GenerationResult::text).toList() + " vs " + refs);
        }
    }

    @Test
    void answersEntailmentQuestionsAboutTheSamples() {
        var tasks = new dev.mue.train.data.GridTasks(FashionMnist.load().test());
        var examples = tasks.entailments(TestSplitSamples.SEED, 60);
        int correct = 0;
        try (MueSession s = Mue.session().model(model()).backend("java").policy(ExitPolicy.full()).open()) {
            List<EntailmentResult> out = s.entailImages(examples.stream().map(e -> tasks.render(e.grid())).toList(),
                    examples.stream().map(e -> e.hypothesis()).toList(), null);
            for (int i = 0; i < out.size(); i++) {
                correct += out.get(i).answer().equals(examples.get(i).answer()) ? 1 : 0;
            }
        }
        assertTrue(correct >= TrainingFacts.MIN_ENTAILMENT_OF_60, correct + " of 60 entailment answers right");
    }

    @Test
    void shipsCalibratedPoliciesWhoseCertificatesNameTheseWeights() throws IOException {
        Model m = model();
        String sha = dev.mue.train.calibrate.Hashes.model(m);
        for (dev.mue.api.policy.Task t : dev.mue.api.policy.Task.values()) {
            var entry = m.policies().forTask(t).orElseThrow(() -> new AssertionError("no " + t.key() + " policy shipped"));
            var cert = entry.certificate();
            assertTrue(cert != null, t.key() + " policy has a certificate");
            assertEquals(sha, cert.modelSha256(), t.key() + ": the certificate is for the shipped weights");
            assertEquals("validation", cert.data().split(), "calibrated on validation, never on the test split");
            assertTrue(cert.pValue() <= cert.epsilon() && cert.empiricalRisk() <= cert.delta(), t.key());
            assertTrue(cert.measured().layerReduction() > 0, t.key() + " saves layers");
        }
        // the file in the source tree is what the strict reader accepts, and writes back unchanged in meaning
        Path f = SOURCE.resolve(dev.mue.api.policy.PolicyFile.NAME);
        var read = dev.mue.api.policy.PolicyFile.read(f, "x");
        assertEquals(read, dev.mue.api.policy.PolicyFile.parse(dev.mue.api.policy.PolicyFile.toJson(read), "again", "x"));
    }

    private static String normalised(String caption) {
        return caption.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z ]", " ").replaceAll("\\s+", " ").strip();
    }

    /** What the README states about the shipped model, in one place for the tests. */
    static final class TrainingFacts {
        static final long SEED = 20261128;
        static final int MIN_EXACT_SAMPLE_CAPTIONS = 2;
        static final int MIN_ENTAILMENT_OF_60 = 48;

        private TrainingFacts() {
        }
    }
}
