package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.policy.Task;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which policy the CLI runs, through the real command line: threshold flags over {@code --policy
 * FILE} over the bundle's {@code policy.json} over the paper's appendix A values, per task, and
 * {@code plan}, {@code --trace} and {@code --json} say which one applied.
 */
class PolicySourceTest {
    static final String GRID = MueCliTest.GRID;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Model bundled() {
        return ModelBundle.loadResource(MueCli.class.getClassLoader(), MueCli.DEFAULT_MODEL);
    }

    private static PolicyChoice bundleChoice(Task t) {
        return PolicyChoice.resolve(t, null, null, bundled().policies());
    }

    private static final String HAND_WRITTEN = """
            {"format": "mue-policy", "version": 1,
             "caption": {"image_threshold": 0.5, "text_threshold": 0.6, "decoder": {"schedule": "fixed", "theta": 0.7}},
             "entail": {"image_threshold": 0.55, "text_threshold": 0.65, "decoder": {"schedule": "fixed", "theta": 0.75}}}
            """;

    private static Path handWritten(Path dir) throws IOException {
        Path p = dir.resolve("p.json");
        Files.writeString(p, HAND_WRITTEN);
        return p;
    }

    @Test
    void theShippedBundleHasCalibratedPoliciesForBothTasks() {
        for (Task t : Task.values()) {
            PolicyChoice c = bundleChoice(t);
            assertEquals(ModelBundle.POLICY_SOURCE, c.source(), t.key());
            assertTrue(c.certificate() != null, t + " policy of the shipped bundle is calibrated");
            assertFalse(c.policy().equals(ExitPolicy.paper()), t.key());
        }
    }

    @Test
    void withoutFlagsEachTaskRunsTheBundlesPolicyAndSaysSo() throws IOException {
        for (Task t : Task.values()) {
            PolicyChoice c = bundleChoice(t);
            CliRun plan = MueCliTest.ok("plan", "--task", t == Task.ENTAIL ? "ve" : "caption");
            assertTrue(plan.out().contains("policy from: " + c.describeSource()), plan::toString);
            assertTrue(plan.out().contains("policy: " + c.policy().describe()), plan::toString);
            assertTrue(c.describeSource().matches("bundle policy\\.json \\(calibrated: delta [0-9.]+, epsilon [0-9.]+\\)"),
                    c.describeSource());
        }
        CliRun cap = MueCliTest.ok("caption", GRID, "--trace");
        assertTrue(cap.outLines().contains("# policy from: " + bundleChoice(Task.CAPTION).describeSource()), cap::toString);
        assertTrue(cap.outLines().contains("# policy " + bundleChoice(Task.CAPTION).policy().describe()), cap::toString);
        // entailment in the same kind of session runs its own, different policy
        JsonNode e = JSON.readTree(MueCliTest.ok("entail", GRID, "--hypothesis", "there is a coat", "--json").out());
        assertEquals(PolicyFile.policyJson(bundleChoice(Task.ENTAIL).policy()), e.get("policy").toString());
        assertEquals(bundleChoice(Task.ENTAIL).describeSource(), e.get("policy_source").asText());
    }

    @Test
    void policyFileOverridesTheBundleAndFlagsOverrideTheFile(@TempDir Path dir) throws IOException {
        Path p = handWritten(dir);
        CliRun file = MueCliTest.ok("plan", "--policy", p.toString());
        assertTrue(file.out().contains("policy from: --policy " + p + "\n"), file::toString);
        assertTrue(file.out().contains("policy: decomposed(image>0.5, text>0.6), decoder fixed(0.7), kv propagate"),
                file::toString);
        CliRun ve = MueCliTest.ok("plan", "--task", "ve", "--policy", p.toString());
        assertTrue(ve.out().contains("decomposed(image>0.55, text>0.65), decoder fixed(0.75)"), ve::toString);
        CliRun flags = MueCliTest.ok("plan", "--policy", p.toString(), "--decoder-threshold", "0.8");
        assertTrue(flags.out().contains("policy from: flags over --policy " + p + "\n"), flags::toString);
        // the flag replaces one field; the others stay the file's
        assertTrue(flags.out().contains("policy: decomposed(image>0.5, text>0.6), decoder fixed(0.8)"), flags::toString);
        CliRun trace = MueCliTest.ok("entail", GRID, "--hypothesis", "there is a coat", "--trace", "--policy", p.toString());
        assertTrue(trace.outLines().contains("# policy from: --policy " + p), trace::toString);
        assertTrue(trace.outLines().contains("# policy decomposed(image>0.55, text>0.65), decoder fixed(0.75), kv propagate"),
                trace::toString);
    }

    @Test
    void flagsOverTheBundleDropTheCertificate() {
        CliRun r = MueCliTest.ok("plan", "--image-threshold", "0.9");
        assertTrue(r.out().contains("policy from: flags over bundle policy.json\n"), r::toString);
        assertFalse(r.out().contains("calibrated"), r::toString);
        ExitPolicy expected = bundleChoice(Task.CAPTION).policy().toBuilder().imageThreshold(0.9).build();
        assertTrue(r.out().contains("policy: " + expected.describe()), r::toString);
    }

    @Test
    void aBundleWithoutPolicyFileRunsThePapersValues(@TempDir Path dir) throws IOException {
        for (String f : List.of(ModelBundle.CONFIG, ModelBundle.WEIGHTS, ModelBundle.VOCABULARY)) {
            try (InputStream in = MueCli.class.getClassLoader().getResourceAsStream(MueCli.DEFAULT_MODEL + "/" + f)) {
                Files.copy(in, dir.resolve(f));
            }
        }
        CliRun r = MueCliTest.ok("plan", "--model", dir.toString());
        assertTrue(r.out().contains("policy from: paper appendix A\n"), r::toString);
        assertTrue(r.out().contains("policy: " + ExitPolicy.paper().describe()), r::toString);
        // a policy.json written beside it becomes the bundle's
        Files.writeString(dir.resolve(PolicyFile.NAME), HAND_WRITTEN);
        CliRun withFile = MueCliTest.ok("plan", "--model", dir.toString(), "--task", "ve");
        assertTrue(withFile.out().contains("policy from: bundle policy.json\n"), withFile::toString);
        assertTrue(withFile.out().contains("decoder fixed(0.75)"), withFile::toString);
    }

    @Test
    void theApiResolvesTheSameWayPerTask(@TempDir Path dir) throws IOException {
        Model m = bundled();
        try (MueSession s = Mue.session().model(m).backend("java").open()) {
            for (Task t : Task.values()) {
                assertEquals(bundleChoice(t), s.policy(t));
                assertEquals(bundleChoice(t).policy(), s.plan(t).policy());
            }
            assertEquals(s.plan(), s.plan(Task.CAPTION));
            // entailment runs its own plan: its decoder gates use entailment's threshold, not captioning's
            var e = s.entail(Path.of(GRID), "there is a coat");
            double theta = bundleChoice(Task.ENTAIL).policy().decoderSchedule().theta();
            e.trace().decoder().get(0).gates().forEach(g -> assertEquals(theta, g.threshold(), 1e-12));
            var c = s.caption(Path.of(GRID));
            var capSchedule = bundleChoice(Task.CAPTION).policy().decoderSchedule();
            c.trace().decoder().get(0).gates().forEach(g -> assertEquals(capSchedule.threshold(0, 16), g.threshold(), 1e-12));
        }
        Path p = handWritten(dir);
        try (MueSession s = Mue.session().model(m).backend("java").policyFile(p).open()) {
            assertEquals("policy file " + p, s.policy(Task.ENTAIL).source());
            assertEquals(0.75, s.plan(Task.ENTAIL).policy().decoderSchedule().theta());
        }
        try (MueSession s = Mue.session().model(m).backend("java").policyFile(p).policy(ExitPolicy.full()).open()) {
            for (Task t : Task.values()) {
                assertEquals(Mue.SessionBuilder.API_SOURCE, s.policy(t).source());
                assertEquals(ExitPolicy.full(), s.plan(t).policy());
            }
        }
    }

    @Test
    void badPolicyFilesAreOneErrorLineNamingFileAndKey(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("bad.json");
        Files.writeString(p, HAND_WRITTEN.replace("\"theta\": 0.7", "\"theta\": 0.7, \"speed\": 1"));
        CliRun r = CliRun.of("caption", GRID, "--policy", p.toString());
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals(List.of("mue: error: " + p + ": unknown key 'caption.decoder.speed'"), r.errLines());
        Files.writeString(p, HAND_WRITTEN.replace("0.55", "1.55"));
        CliRun range = CliRun.of("plan", "--policy", p.toString());
        assertEquals(1, range.exitCode(), range::toString);
        assertEquals(List.of("mue: error: " + p + ": key 'entail.image_threshold' must be in [-1, 1] (a cosine similarity), got 1.55"),
                range.errLines());
        Files.writeString(p, "{\"format\": \"mue-policy\", ");
        CliRun json = CliRun.of("plan", "--policy", p.toString());
        assertEquals(1, json.errLines().size(), json::toString);
        assertTrue(json.err().startsWith("mue: error: " + p + ": invalid JSON"), json::toString);
        CliRun missing = CliRun.of("plan", "--policy", dir.resolve("none.json").toString());
        assertEquals(List.of("mue: error: policy file not found: " + dir.resolve("none.json")), missing.errLines());
    }
}
