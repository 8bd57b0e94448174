package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.Task;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the {@code mue} command in-process against the bundled model, the samples and the java backend. */
class MueCliTest {
    static final String GRID = Path.of("..", "samples", "grid.png").toString();
    static final String GRID_JPG = Path.of("..", "samples", "grid.jpg").toString();
    static final String GRAY = Path.of("..", "samples", "gray.png").toString();
    private static final ObjectMapper JSON = new ObjectMapper();

    static CliRun ok(String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("", r.err(), r::toString);
        return r;
    }

    static List<JsonNode> json(CliRun r) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.outLines()) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    /** Every exit layer in a result's trace: encoder streams and decoder steps. */
    static List<Integer> exitLayers(JsonNode result) {
        List<Integer> layers = new ArrayList<>();
        result.get("trace").get("encoder").forEach(e -> layers.add(e.get("exit_layer").asInt()));
        result.get("trace").get("decoder").forEach(d -> layers.add(d.get("exit_layer").asInt()));
        return layers;
    }

    @Test
    void captionWithTracePrintsCaptionAndEveryKindOfGate() {
        CliRun r = ok("caption", GRID, "--trace");
        List<String> lines = r.outLines();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(GRID + ": ") && l.length() > GRID.length() + 2), r::toString);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("  exits: image L") && l.contains("expected time reduction")),
                r::toString);
        for (String stream : List.of("image", "text", "decoder")) {
            assertTrue(lines.stream().anyMatch(l -> l.matches("  gate " + stream + " +L\\d+ +similarity +-?\\d\\.\\d{6} "
                    + " threshold +-?\\d\\.\\d{6}  (exit|continue).*")), () -> "no " + stream + " gate in\n" + r);
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("gate decoder") && l.contains("step 0 token \"")), r::toString);
    }

    @Test
    void captionJsonIsValidAndCarriesTheTrace() throws IOException {
        CliRun r = ok("caption", GRID, "--json");
        List<JsonNode> results = json(r);
        assertEquals(1, results.size());
        JsonNode o = results.get(0);
        assertEquals("caption", o.get("task").asText());
        assertEquals(GRID, o.get("image").asText());
        assertFalse(o.get("text").asText().isBlank());
        assertTrue(o.get("score").isNumber());
        JsonNode trace = o.get("trace");
        assertEquals(2, trace.get("encoder").size());
        assertEquals("image", trace.get("encoder").get(0).get("stream").asText());
        assertEquals("text", trace.get("encoder").get(1).get("stream").asText());
        for (JsonNode e : trace.get("encoder")) {
            assertTrue(e.get("tokens").asInt() > 0);
            assertTrue(e.get("gates").size() > 0);
            JsonNode g = e.get("gates").get(0);
            assertEquals(1, g.get("layer").asInt());
            assertTrue(g.get("similarity").isNumber() && g.get("threshold").isNumber() && g.get("exit").isBoolean());
        }
        assertTrue(trace.get("decoder").size() > 0);
        JsonNode step = trace.get("decoder").get(0);
        assertEquals(0, step.get("step").asInt());
        assertTrue(step.get("token_text").isTextual());
        assertTrue(step.get("gates").size() > 0);
        assertTrue(trace.get("layer_reduction").isNumber());
        assertTrue(trace.get("flop_reduction").isNumber());
        // The whole pass adds work no exit skips (backbone, embeddings, head): a smaller saving.
        assertTrue(trace.get("flops_fixed").asLong() > 0);
        double layerFlops = trace.get("flop_reduction").asDouble();
        double whole = trace.get("whole_pass_flop_reduction").asDouble();
        assertTrue(layerFlops <= 0 ? whole == layerFlops : whole > 0 && whole < layerFlops,
                "whole-pass " + whole + " vs layers " + layerFlops);
    }

    @Test
    void entailJsonProbabilitiesSumToOne() throws IOException {
        CliRun r = ok("entail", GRID, "--hypothesis", "there is a shoe", "--json");
        List<JsonNode> results = json(r);
        assertEquals(1, results.size());
        JsonNode o = results.get(0);
        double sum = 0;
        for (String a : List.of("yes", "no", "maybe")) {
            double p = o.get("probabilities").get(a).asDouble();
            assertTrue(p > 0 && p < 1, () -> a + ": " + p);
            assertTrue(o.get("log_probs").get(a).asDouble() < 0);
            sum += p;
        }
        assertEquals(1.0, sum, 1e-9);
        String answer = o.get("answer").asText();
        assertTrue(List.of("yes", "no", "maybe").contains(answer));
        assertEquals(switch (answer) {
            case "yes" -> "entailment";
            case "no" -> "contradiction";
            default -> "neutral";
        }, o.get("label").asText());
        assertEquals(1, o.get("trace").get("decoder").size());
    }

    @Test
    void entailTextShowsAnswerAndTheThreeProbabilities() {
        CliRun r = ok("entail", GRID, "--hypothesis", "there are two shirts", "--premise", "a grid of four clothing items");
        List<String> lines = r.outLines();
        assertTrue(lines.get(0).matches(java.util.regex.Pattern.quote(GRID)
                + ": (yes \\(entailment\\)|no \\(contradiction\\)|maybe \\(neutral\\))"), r::toString);
        for (String a : List.of("yes", "no", "maybe")) {
            assertTrue(lines.stream().anyMatch(l -> l.matches("  " + a + " +probability \\d\\.\\d{4}  log-prob -?\\d+\\.\\d{4}")),
                    r::toString);
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("  exits: ") && l.contains("one scoring pass")), r::toString);
    }

    @Test
    void backendsListsJavaAsAvailable() {
        CliRun r = ok("backends");
        assertTrue(r.outLines().stream().anyMatch(l -> l.matches("java +priority +\\d+ +available")), r::toString);
        assertTrue(r.out().contains("devices [cpu]"), r::toString);
    }

    @Test
    void planDotIsAGraphWithDiamondGates() {
        CliRun r = ok("plan", "--dot");
        assertTrue(r.out().startsWith("digraph"), r::toString);
        assertTrue(r.out().contains("diamond"), r::toString);
    }

    @Test
    void planReflectsThePolicyFlags() {
        // without flags: the bundle's calibrated captioning policy (policy.json); each flag replaces one field of it
        ExitPolicy cap = ModelBundle.loadResource(MueCli.class.getClassLoader(), MueCli.DEFAULT_MODEL).policies()
                .forTask(Task.CAPTION).orElseThrow().policy();
        assertTrue(ok("plan").out().contains("policy: " + cap.describe()));
        // the calibration grid uses the paper's decay schedule for captions
        DecoderSchedule.Decay d = (DecoderSchedule.Decay) cap.decoderSchedule();
        assertTrue(ok("plan", "--decoder-threshold", "0.8").out().contains("decoder decay(0.8," + d.beta() + "," + d.tau() + ")"));
        assertTrue(ok("plan", "--schedule", "reference-decay").out().contains("decoder reference-decay(" + d.theta() + ")"));
        assertTrue(ok("plan", "--schedule", "fixed", "--decoder-threshold", "0.7").out().contains("decoder fixed(0.7)"));
        CliRun joint = ok("plan", "--encoder", "joint", "--encoder-threshold", "0.8", "--kv-policy", "omit",
                "--no-image-relative-bias");
        assertTrue(joint.out().contains("policy: joint(>0.8), decoder " + d.describe() + ", kv omit, no image relative bias"),
                joint::toString);
        assertTrue(ok("plan", "--encoder-threshold", "0.5", "--text-threshold", "0.7").out()
                .contains("decomposed(image>0.5, text>0.7)"));
    }

    @Test
    void thresholdMinusOneExitsAfterTheFirstLayerEverywhere() throws IOException {
        CliRun r = ok("caption", GRID, "--json", "--image-threshold", "-1", "--text-threshold", "-1",
                "--decoder-threshold", "-1", "--schedule", "fixed");
        JsonNode o = json(r).get(0);
        List<Integer> layers = exitLayers(o);
        assertTrue(layers.size() > 2);
        assertTrue(layers.stream().allMatch(l -> l == 1), () -> layers.toString());
    }

    @Test
    void thresholdOneRunsTheFullDepthEverywhere() throws IOException {
        CliRun r = ok("caption", GRID, "--json", "--image-threshold", "1", "--text-threshold", "1",
                "--decoder-threshold", "1", "--schedule", "fixed");
        JsonNode o = json(r).get(0);
        JsonNode t = o.get("trace");
        t.get("encoder").forEach(e -> assertEquals(t.get("encoder_layers").asInt(), e.get("exit_layer").asInt()));
        t.get("decoder").forEach(d -> assertEquals(t.get("decoder_layers").asInt(), d.get("exit_layer").asInt()));
        assertEquals(0.0, t.get("layer_reduction").asDouble(), 1e-12);
        // Every layer ran, and so did every gate (threshold 1 is measured, never taken): against the
        // model without gates that is a small cost, not a saving.
        double gates = t.get("flop_reduction").asDouble();
        assertTrue(gates < 0 && gates > -0.01, "the gates' cost: " + gates);
        double whole = t.get("whole_pass_flop_reduction").asDouble();
        assertTrue(whole < 0 && whole > gates, "smaller over the whole pass: " + whole);
        assertEquals(t.get("flops_full").asLong() - t.get("flops_run").asLong(),
                (long) Math.round(gates * t.get("flops_full").asLong()));
    }

    @Test
    void batchGivesTheSameResultsAsOneByOne() throws IOException {
        String[] images = {GRID, GRID_JPG, GRAY};
        List<JsonNode> single = json(ok("caption", images[0], images[1], images[2], "--json",
                "--encoder-threshold", "0.8", "--decoder-threshold", "0.8"));
        List<JsonNode> batch = json(ok("caption", "--batch", images[0], images[1], images[2], "--json",
                "--encoder-threshold", "0.8", "--decoder-threshold", "0.8"));
        assertEquals(3, single.size());
        assertEquals(3, batch.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(images[i], batch.get(i).get("image").asText());
            assertEquals(single.get(i).get("text"), batch.get(i).get("text"));
            assertEquals(single.get(i).get("tokens"), batch.get(i).get("tokens"));
            assertEquals(exitLayers(single.get(i)), exitLayers(batch.get(i)));
        }
    }

    @Test
    void calmsCriterionDecidesTheDecoderGatesAndAnUnknownOneIsOneErrorLine() throws IOException {
        // Probability above -1 always: every decoder gate after layer 1 exits on CALM's confidence.
        CliRun r = ok("caption", GRID, "--json", "--decoder-criterion", "calm", "--decoder-threshold", "-1",
                "--schedule", "fixed");
        JsonNode o = json(r).get(0);
        assertEquals("calm", o.get("policy").get("decoder_criterion").asText(), o.toString());
        for (JsonNode step : o.get("trace").get("decoder")) {
            assertEquals(1, step.get("exit_layer").asInt());
            double p = step.get("gates").get(0).get("similarity").asDouble();
            assertTrue(p > 0 && p <= 1, "a probability: " + p);
        }
        CliRun bad = CliRun.of("caption", GRID, "--decoder-criterion", "nope");
        assertEquals(1, bad.exitCode(), bad::toString);
        assertEquals(List.of("mue: error: unknown exit criterion 'nope'; known: calm, cosine"), bad.errLines());
    }

    @Test
    void missingImageIsOneErrorLine() {
        CliRun r = CliRun.of("caption", "missing.png");
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals(List.of("mue: error: image file not found: missing.png"), r.errLines());
        assertEquals("", r.out());
    }

    @Test
    void stacktraceFlagAddsTheStack() {
        CliRun r = CliRun.of("caption", "missing.png", "--stacktrace");
        assertEquals(1, r.exitCode());
        assertEquals("mue: error: image file not found: missing.png", r.errLines().get(0));
        assertTrue(r.errLines().size() > 2 && r.err().contains("InvalidInputException"), r::toString);
    }

    @Test
    void corruptModelIsOneErrorLineNamingTheFile(@TempDir Path dir) throws IOException {
        for (String f : List.of(ModelBundle.CONFIG, ModelBundle.WEIGHTS, ModelBundle.VOCABULARY)) {
            try (InputStream in = MueCli.class.getClassLoader()
                    .getResourceAsStream(MueCli.DEFAULT_MODEL + "/" + f)) {
                Files.copy(in, dir.resolve(f));
            }
        }
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(ModelBundle.WEIGHTS).toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        CliRun r = CliRun.of("caption", GRID, "--model", dir.toString());
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.errLines().get(0).startsWith("mue: error: "), r::toString);
        assertTrue(r.errLines().get(0).contains(ModelBundle.WEIGHTS), r::toString);
    }

    @Test
    void missingModelDirIsOneErrorLine() {
        CliRun r = CliRun.of("plan", "--model", "no-such-model-dir");
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.errLines().get(0).startsWith("mue: error: ") && r.err().contains("no-such-model-dir"), r::toString);
    }

    @Test
    void badOptionValueIsAUsageError() {
        CliRun r = CliRun.of("caption", GRID, "--kv-policy", "nope");
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--kv-policy") && r.err().contains("nope"), r::toString);
        assertEquals(2, CliRun.of("caption", GRID, "--schedule", "sometimes").exitCode());
        assertEquals(2, CliRun.of("entail", GRID).exitCode(), "--hypothesis is required");
        assertEquals(2, CliRun.of().exitCode(), "a subcommand is required");
    }

    @Test
    void badThresholdIsAUsageError() {
        CliRun r = CliRun.of("caption", GRID, "--image-threshold", "2");
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(2, r.errLines().size(), r::toString);
        assertTrue(r.errLines().get(0).startsWith("mue: image threshold must be in [-1, 1]"), r::toString);
    }

    @Test
    void unknownBackendIsAUsageError() {
        CliRun r = CliRun.of("caption", GRID, "--backend", "nonesuch");
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(2, r.errLines().size(), r::toString);
        assertTrue(r.err().contains("unknown backend 'nonesuch'") && r.err().contains("java"), r::toString);
    }

    @Test
    void initTwiceWithTheSameSeedGivesIdenticalBytes(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        ok("init", "--preset", "mue-demo", "--seed", "7", "--dtype", "f16", "--image-size", "32", a.toString());
        ok("init", "--preset", "mue-demo", "--seed", "7", "--dtype", "f16", "--image-size", "32", b.toString());
        for (String f : List.of(ModelBundle.CONFIG, ModelBundle.WEIGHTS, ModelBundle.VOCABULARY)) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        assertTrue(Files.readString(a.resolve(ModelBundle.CONFIG)).contains("\"image_size\" : 32"));
        // A different seed gives different weights.
        Path c = dir.resolve("c");
        ok("init", "--preset", "mue-demo", "--seed", "8", "--dtype", "f16", "--image-size", "32", c.toString());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a.resolve(ModelBundle.WEIGHTS)),
                Files.readAllBytes(c.resolve(ModelBundle.WEIGHTS))));
        // The written bundle is usable.
        assertTrue(ok("caption", GRID, "--model", a.toString(), "--beam", "1", "--max-length", "4").out()
                .startsWith(GRID + ": "));
    }

    @Test
    void initRefusesANonEmptyDirectoryWithoutForce(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("keep.txt"), "x");
        CliRun r = CliRun.of("init", "--preset", "mue-demo", "--seed", "1", dir.toString());
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().contains("not empty") && r.err().contains("--force"), r::toString);
        assertFalse(Files.exists(dir.resolve(ModelBundle.WEIGHTS)));
        ok("init", "--preset", "mue-demo", "--seed", "1", "--force", dir.toString());
        assertTrue(Files.exists(dir.resolve(ModelBundle.WEIGHTS)));
        assertEquals(2, CliRun.of("init", "--preset", "mue-demo", "--seed", "1", "--dtype", "f64", dir.toString())
                .exitCode());
        CliRun unknown = CliRun.of("init", "--preset", "nope", "--seed", "1", dir.resolve("x").toString());
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().startsWith("mue: unknown preset 'nope'"), unknown::toString);
    }
}
