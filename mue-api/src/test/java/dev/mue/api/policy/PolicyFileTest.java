package dev.mue.api.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.PolicyFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code policy.json}: round trip, defaults, strict rejection of bad files, and the precedence rule. */
class PolicyFileTest {
    private static final String SHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    static Certificate certificate(String task) {
        return new Certificate(task, "1 if the answer differs", 0.02, 0.05, 700, 0.0057, 0.0123, "exact binomial tail",
                "fixed-sequence", new Certificate.Data("validation", 7, 1000, 300, 700, SHA), SHA,
                new Certificate.Grid(List.of(1.0, 0.99), List.of(1.0), List.of(1.0, 0.95), "fixed"),
                List.of(new Certificate.PathStep(1, 1, 0.95, 0.003, 0.0057, 0.0123, true),
                        new Certificate.PathStep(0.99, 1, 0.95, 0.01, 0.03, 0.9, false),
                        new Certificate.PathStep(0.99, 1, 1, 0.02, null, null, false)),
                new Certificate.Measured(0.2, 0.25, 0.18, 10.0, 8.2, "java", 3));
    }

    @Test
    void roundTripsBitForBit() {
        ExitPolicy ve = ExitPolicy.builder().decoderThreshold(0.95).build();
        ExitPolicy cap = ExitPolicy.builder().imageThreshold(0.995).textThreshold(0.99).jointThreshold(0.99)
                .decoderSchedule(new DecoderSchedule.Decay(0.97, 0.95, 1.0)).kvPolicy(KvPolicy.OMIT).build();
        ModelPolicies p = new ModelPolicies(new TaskPolicy(cap, null), new TaskPolicy(ve, certificate("entail")), "x");
        String json = PolicyFile.toJson(p);
        ModelPolicies back = PolicyFile.parse(json, "p.json", "src");
        assertEquals(p.caption(), back.caption());
        assertEquals(p.entail(), back.entail());
        assertEquals("src", back.source());
        assertEquals(json, PolicyFile.toJson(back));
    }

    @Test
    void aPerStepTableAndTheExitCriteriaRoundTripAndAreChecked() {
        ExitPolicy calm = ExitPolicy.builder().decoderSchedule(new DecoderSchedule.Table(new double[] {0.9, 0.7, 0.5}))
                .decoderCriterion("calm").build();
        ModelPolicies p = new ModelPolicies(new TaskPolicy(calm, null), null, "x");
        String json = PolicyFile.toJson(p);
        assertTrue(json.contains("\"table\"") && json.contains("\"decoder_criterion\" : \"calm\""), json);
        assertTrue(!json.contains("encoder_criterion"), "MuE's default is not written: " + json);
        ExitPolicy back = PolicyFile.parse(json, "p.json", "src").caption().policy();
        assertEquals(calm, back);
        assertEquals(0.7, back.decoderSchedule().threshold(1, 16));
        assertEquals(0.5, back.decoderSchedule().threshold(9, 16), "the last entry holds for later steps");
        assertEquals(0.9, back.decoderSchedule().theta());
        String entry = "{\"image_threshold\": 1, \"text_threshold\": 1, \"decoder\": %s%s}";
        String head = "{\"format\": \"mue-policy\", \"version\": 1, \"caption\": ";
        assertTrue(rejected(head + entry.formatted("{\"schedule\": \"table\", \"thresholds\": [0.9, 1.5]}", "") + "}")
                .contains("caption.decoder.thresholds"));
        assertTrue(rejected(head + entry.formatted("{\"schedule\": \"table\", \"thresholds\": []}", "") + "}")
                .contains("at least one threshold"));
        assertTrue(rejected(head + entry.formatted("{\"schedule\": \"fixed\", \"theta\": 0.9}",
                ", \"decoder_criterion\": \"Not An Id\"") + "}").contains("caption.decoder_criterion"));
    }

    @Test
    void handWrittenFileTakesDefaults() {
        ModelPolicies p = PolicyFile.parse("""
                {"format": "mue-policy", "version": 1,
                 "entail": {"image_threshold": 1, "text_threshold": 0.98, "decoder": {"schedule": "fixed", "theta": 0.9}}}
                """, "p.json", "src");
        assertNull(p.caption());
        ExitPolicy e = p.entail().policy();
        assertEquals(ExitPolicy.builder().textThreshold(0.98).jointThreshold(0.98).decoderThreshold(0.9).build(), e);
        assertNull(p.entail().certificate());
    }

    private static String rejected(String json) {
        PolicyFormatException e = assertThrows(PolicyFormatException.class, () -> PolicyFile.parse(json, "bad.json", "s"));
        assertTrue(e.getMessage().startsWith("bad.json: "), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e.getMessage();
    }

    private static final String OK_ENTRY = "{\"image_threshold\": 1, \"text_threshold\": 1, \"decoder\": {\"schedule\": \"fixed\", \"theta\": 0.9}}";

    @Test
    void rejectsBadFilesNamingTheKey() {
        assertTrue(rejected("{\"format\": ").contains("invalid JSON"));
        assertTrue(rejected("[1]").contains("must be a JSON object"));
        assertTrue(rejected("{\"format\": \"mue-policy\", \"version\": 1}").contains("no policy"));
        assertTrue(rejected("{\"format\": \"other\", \"version\": 1, \"entail\": " + OK_ENTRY + "}").contains("'format'"));
        assertTrue(rejected("{\"format\": \"mue-policy\", \"version\": 2, \"entail\": " + OK_ENTRY + "}")
                .contains("version 2 is not supported"));
        assertTrue(rejected("{\"format\": \"mue-policy\", \"version\": 1, \"vqa\": " + OK_ENTRY + "}")
                .contains("unknown key 'vqa'"));
        String base = "{\"format\": \"mue-policy\", \"version\": 1, \"entail\": ";
        assertTrue(rejected(base + OK_ENTRY.replace("\"text_threshold\": 1", "\"text_threshold\": 1, \"speed\": 2") + "}")
                .contains("unknown key 'entail.speed'"));
        assertTrue(rejected(base + OK_ENTRY.replace("\"image_threshold\": 1", "\"image_threshold\": 1.5") + "}")
                .contains("'entail.image_threshold' must be in [-1, 1]"));
        assertTrue(rejected(base + OK_ENTRY.replace("\"image_threshold\": 1,", "") + "}")
                .contains("'entail.image_threshold' is required"));
        assertTrue(rejected(base + OK_ENTRY.replace("0.9}", "\"high\"}") + "}").contains("'entail.decoder.theta' must be a number"));
        assertTrue(rejected(base + OK_ENTRY.replace("fixed", "linear") + "}").contains("'entail.decoder.schedule'"));
        assertTrue(rejected(base + OK_ENTRY.replace("}}", "}, \"kv_policy\": \"drop\"}") + "}").contains("'entail.kv_policy'"));
        assertTrue(rejected(base + OK_ENTRY.replace("}}", "}, \"min_exit_layer\": 0}") + "}").contains("'entail.min_exit_layer'"));
    }

    @Test
    void rejectsBadCertificates() {
        ModelPolicies good = new ModelPolicies(null, new TaskPolicy(ExitPolicy.builder().decoderThreshold(0.95).build(),
                certificate("entail")), "s");
        String json = PolicyFile.toJson(good);
        assertTrue(rejected(json.replace("\"delta\" : 0.02", "\"delta\" : 1.5")).contains("'delta' must be in (0, 1)"));
        assertTrue(rejected(json.replace("\"epsilon\" : 0.05", "\"epsilon\" : 0")).contains("'epsilon' must be in (0, 1)"));
        assertTrue(rejected(json.replace("\"p_value\" : 0.0123,", "\"p_value\" : -0.1,")).contains("p_value"));
        assertTrue(rejected(json.replace("\"n\" : 700", "\"n\" : 699")).contains("'n' (699) must equal"));
        assertTrue(rejected(json.replace("\"model_sha256\" : \"0123", "\"model_sha256\" : \"X123")).contains("model_sha256"));
        assertTrue(rejected(json.replace("\"task\" : \"entail\"", "\"task\" : \"caption\"")).contains("entail.certificate.task"));
        assertTrue(rejected(json.replace("\"fwer_method\"", "\"extra\" : 1, \"fwer_method\""))
                .contains("unknown key 'entail.certificate.extra'"));
        assertTrue(rejected(json.replace("\"accepted\" : true", "\"accepted\" : \"yes\"")).contains("accepted"));
    }

    @Test
    void readNamesMissingFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("policy.json");
        PolicyFormatException e = assertThrows(PolicyFormatException.class, () -> PolicyFile.read(f, "s"));
        assertTrue(e.getMessage().contains("policy file not found: " + f));
        Files.writeString(f, "{}");
        assertTrue(assertThrows(PolicyFormatException.class, () -> PolicyFile.read(f, "s")).getMessage()
                .startsWith(f + ": "));
    }

    @Test
    void precedenceIsExplicitThenFileThenBundleThenPaper() {
        TaskPolicy a = new TaskPolicy(ExitPolicy.builder().decoderThreshold(0.9).build(), certificate("entail"));
        TaskPolicy b = new TaskPolicy(ExitPolicy.builder().decoderThreshold(0.8).build(), null);
        ModelPolicies file = new ModelPolicies(null, a, "--policy p.json");
        ModelPolicies bundle = new ModelPolicies(b, b, "bundle policy.json");
        PolicyChoice explicit = new PolicyChoice(ExitPolicy.full(), "flags", null);
        assertEquals(explicit, PolicyChoice.resolve(Task.ENTAIL, explicit, file, bundle));
        PolicyChoice fromFile = PolicyChoice.resolve(Task.ENTAIL, null, file, bundle);
        assertEquals(a.policy(), fromFile.policy());
        assertEquals("--policy p.json (calibrated: delta 0.02, epsilon 0.05)", fromFile.describeSource());
        // the file has no caption entry: captioning falls through to the bundle
        assertEquals("bundle policy.json", PolicyChoice.resolve(Task.CAPTION, null, file, bundle).describeSource());
        assertEquals(PolicyChoice.paper(), PolicyChoice.resolve(Task.CAPTION, null, null, ModelPolicies.none()));
        assertEquals("paper appendix A", PolicyChoice.paper().describeSource());
    }
}
