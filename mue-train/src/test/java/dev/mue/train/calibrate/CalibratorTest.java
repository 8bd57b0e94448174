package dev.mue.train.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.policy.Certificate;
import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.policy.Task;
import dev.mue.api.text.Vocabulary;
import dev.mue.train.data.FashionMnist;
import dev.mue.train.data.GridTasks;
import dev.mue.train.metrics.RougeL;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The calibration end to end on real task examples and a small seeded model (its answers are
 * meaningless; what is checked is the procedure): the certificate is consistent with the outcome
 * and, apart from the wall-clock measurement, reproduces bit for bit from the same seed and data.
 */
class CalibratorTest {
    private static final GridTasks TASKS = new GridTasks(FashionMnist.load().validation());

    private static Model model(int seed) {
        List<String> corpus = new ArrayList<>();
        TASKS.captions(1, 100).forEach(c -> corpus.add(c.caption()));
        TASKS.entailments(1, 100).forEach(e -> corpus.add(e.hypothesis()));
        corpus.addAll(List.of("yes", "no", "maybe", "what does the image describe?", "does the image describe"));
        Vocabulary v = Vocabulary.fromCorpus(corpus, 300);
        ModelConfig c = new ModelConfig("calibrate-test", 32, 3, 3, 4, 64, v.size(), 48, 16, 4, 64,
                new ResNetConfig(8, 8, new int[] {1, 1, 1}), 2.0, 1e-5);
        return new Model(c, RandomWeights.generate(c, seed), v, "calibrate-test");
    }

    private static CalibrationRequest request(Task task, long seed, double delta) {
        return new CalibrationRequest(task, delta, 0.2, "validation", seed, 24, 0.5,
                new CandidateGrid(List.of(1.0, -1.0), List.of(1.0), List.of(1.0, 0.5)), new DecodingOptions(2, 5, 3, 1.0));
    }

    /** The certificate's JSON without the wall-clock part, which no run can repeat exactly. */
    private static String withoutTiming(Calibration c) {
        String json = PolicyFile.toJson(new ModelPolicies(null, null, "x").with(c.request().task(), c.policy()));
        return json.substring(0, json.indexOf("\"measured\""));
    }

    @Test
    void veCertificateReproducesFromTheSameSeedAndData() {
        Model m = model(3);
        Calibration a = new Calibrator(m, "java", 1, 4, 1).calibrate(TASKS, request(Task.ENTAIL, 7, 0.9), s -> { });
        Calibration b = new Calibrator(m, "java", 1, 4, 1).calibrate(TASKS, request(Task.ENTAIL, 7, 0.9), s -> { });
        assertTrue(a.certified(), () -> a.outcome().toString());
        assertEquals(withoutTiming(a), withoutTiming(b));
        Certificate cert = a.certificate();
        assertEquals(12, cert.n());
        assertEquals(12, cert.data().pathExamples());
        assertEquals(PValueMethod.EXACT_BINOMIAL.description(), cert.pValueMethod());
        assertEquals(Hashes.model(m), cert.modelSha256());
        assertEquals(3, cert.grid().size() - 1, "three candidates besides the full model");
        // the certificate's point is the last accepted step of the tested path
        LearnThenTest.Step chosen = a.outcome().chosenStep();
        assertEquals(chosen.testRisk(), cert.empiricalRisk());
        assertEquals(chosen.pValue(), cert.pValue());
        assertTrue(cert.pValue() <= cert.epsilon());
        Certificate.PathStep last = cert.path().stream().filter(Certificate.PathStep::accepted).reduce((x, y) -> y).orElseThrow();
        assertEquals(a.policy().policy().imageThreshold(), last.image());
        assertEquals(a.policy().policy().decoderSchedule().theta(), last.decoder());
        assertTrue(cert.measured().policySeconds() > 0 && cert.measured().fullSeconds() > 0);
        // another seed draws other examples: another data hash
        Calibration other = new Calibrator(m, "java", 1, 4, 1).calibrate(TASKS, request(Task.ENTAIL, 8, 0.9), s -> { });
        assertNotEquals(a.dataSha256(), other.dataSha256());
        // another model: another model hash
        assertNotEquals(Hashes.model(m), Hashes.model(model(4)));
    }

    @Test
    void captionCalibrationUsesHoeffdingBentkusOnRougeL() {
        Calibration c = new Calibrator(model(3), "java", 1, 4, 1).calibrate(TASKS, request(Task.CAPTION, 7, 0.9), s -> { });
        assertTrue(c.certified(), () -> c.outcome().toString());
        assertEquals(PValueMethod.HOEFFDING_BENTKUS.description(), c.certificate().pValueMethod());
        assertTrue(c.certificate().loss().contains("ROUGE-L"));
        assertEquals("decay(beta 0.95, tau 1.0)", c.certificate().grid().decoderSchedule());
    }

    @Test
    void nothingCertifiedWhenDeltaIsBelowWhatTheDataCanShow() {
        // 12 test examples cannot show a risk below 0.05 at epsilon 0.2 even with no losses:
        // (1 - 0.05)^12 = 0.54 > 0.2
        Calibration c = new Calibrator(model(3), "java", 1, 4, 1).calibrate(TASKS, request(Task.ENTAIL, 7, 0.05), s -> { });
        assertTrue(!c.certified());
        assertEquals(1, c.outcome().tested().size());
        // the smallest certifiable delta for no losses in 12: 1 - 0.2^(1/12) = 0.1255
        double expected = 1 - Math.pow(0.2, 1.0 / 12);
        if (c.outcome().tested().get(0).testRisk() == 0) {
            assertEquals(expected, c.smallestDelta(), 2e-4);
        } else {
            assertTrue(c.smallestDelta() > expected);
        }
    }

    @Test
    void rougeLByHand() {
        // "a coat and a dress" vs "a coat and two dresses": LCS "a coat and" = 3, P 3/5, R 3/5, F1 0.6
        assertEquals(0.6, RougeL.f1("a coat and a dress", "a coat and two dresses"), 1e-12);
        assertEquals(1.0, RougeL.f1("A sneaker.", "a sneaker"), 1e-12);
        assertEquals(0.0, RougeL.f1("a coat", "two bags"), 1e-12);
        // LCS of "a b c d" and "b d a": "b d" = 2; P 2/4, R 2/3, F1 = 2 * (1/2)(2/3) / (1/2 + 2/3) = 4/7
        assertEquals(4.0 / 7, RougeL.f1("a b c d", "b d a"), 1e-12);
    }
}
