package dev.mue.spark;

import static dev.mue.spark.Results.assertSameAnswer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.GenerationResult;
import dev.mue.session.MueSession;
import dev.mue.spark.cli.SparkCli;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mue spark caption|entail} run in-process with {@code --master local[2]}. */
class SparkCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private static MueSession reference;
    private static Path images;

    @BeforeAll
    static void setUp() throws IOException {
        reference = LocalSpark.referenceSession();
        images = dir.resolve("images");
        LocalSpark.copySamples(images);
        Files.write(images.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0});
        Files.writeString(images.resolve("fmnist-test.txt"), "not an image: the default --glob leaves it out\n");
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = SparkCli.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static List<JsonNode> jsonLines(Path output) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(output)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                for (String l : Files.readAllLines(f)) {
                    lines.add(JSON.readTree(l));
                }
            }
        }
        return lines;
    }

    @Test
    void captionWritesOneJsonLinePerImageWithTheSessionsCaptionsAndAnErrorRow() throws IOException {
        Path out = dir.resolve("captions");
        Run r = run("caption", "--input", images.toString(), "--output", out.toString(), "--format", "json", "--master",
                "local[2]", "--batch-size", "4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("caption: 7 rows (1 with an error)"), r.out());
        assertTrue(r.out().contains("broken.png"), "the summary lists the error row: " + r.out());
        List<JsonNode> lines = jsonLines(out);
        assertEquals(LocalSpark.SAMPLES.size() + 1, lines.size());
        for (JsonNode o : lines) {
            String image = o.get("image").asText();
            Path file = Path.of(image.substring("file:".length()));
            assertTrue(o.has("caption") && o.has("error") && !o.has("content"), o.toString());
            if (file.endsWith("broken.png")) {
                assertTrue(o.get("caption").isNull() && o.get("error").asText().contains("broken.png"), o.toString());
                continue;
            }
            assertSameCaptionJson(reference.caption(file), o);
        }
    }

    @Test
    void entailTestsEveryHypothesisOnEveryImageAndWritesParquet() {
        Path out = dir.resolve("answers");
        Run r = run("entail", "--input", images.toString(), "--glob", "fmnist-test-[01].png", "--hypothesis",
                "there is a sneaker", "--hypothesis", "there is a coat", "--premise", "clothes", "--output",
                out.toString(), "--master", "local[2]");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("entail: 4 rows (0 with an error)"), r.out());
        List<Row> rows = LocalSpark.spark().read().parquet(out.toString()).collectAsList();
        assertEquals(4, rows.size());
        for (Row row : rows) {
            Path file = Path.of(((String) row.getAs("image")).substring("file:".length()));
            assertEquals("clothes", row.getAs("premise"));
            assertSameAnswer(reference.entail(file, row.getAs("hypothesis"), "clothes"), row, file + " " + row);
        }
    }

    @Test
    void entailReadsATableOfImagesHypothesesAndPremises() throws IOException {
        Path table = dir.resolve("pairs.csv");
        Path first = images.resolve(LocalSpark.SAMPLES.get(0));
        Path second = images.resolve(LocalSpark.SAMPLES.get(1));
        Files.writeString(table, "image,hypothesis,premise\n" + first + ",there is a sneaker,\n" + second
                + ",there is a bag,clothes\n" + images.resolve("absent.png") + ",there is a bag,\n");
        Path out = dir.resolve("table-answers");
        Run r = run("entail", "--input", table.toString(), "--output", out.toString(), "--format", "json", "--master",
                "local[2]");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("entail: 3 rows (1 with an error)"), r.out());
        assertTrue(r.out().contains("absent.png \"there is a bag\": image file not found"), r.out());
        for (JsonNode o : jsonLines(out)) {
            Path image = Path.of(o.get("image").asText());
            if (image.endsWith("absent.png")) {
                assertTrue(o.get("answer").isNull(), o.toString());
                continue;
            }
            String premise = o.get("premise").isNull() ? null : o.get("premise").asText();
            var expected = reference.entail(image, o.get("hypothesis").asText(), premise);
            assertEquals(image.equals(second) ? "clothes" : null, premise, o.toString());
            assertEquals(expected.answer(), o.get("answer").asText(), o.toString());
            for (String a : MueSession.ENTAILMENT_ANSWERS) {
                assertEquals(expected.probabilities().get(a), o.get("probabilities").get(a).asDouble(), 0.0, o.toString());
            }
        }
    }

    @Test
    void failFastEndsWithOneErrorLineNamingTheRow() {
        Run r = run("caption", "--input", images.toString(), "--output", dir.resolve("ff").toString(), "--fail-fast",
                "--master", "local[2]");
        assertEquals(1, r.code(), r.out());
        String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("mue spark: error: row image ") && last.contains("broken.png"), r.err());
    }

    @Test
    void usageAndInputErrorsAreOneLine() throws IOException {
        Run missing = run("caption", "--output", dir.resolve("x").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("Missing required option: '--input=PATH'"), missing.err());

        Path existing = Files.createDirectories(dir.resolve("existing"));
        Run exists = run("caption", "--input", images.toString(), "--output", existing.toString());
        assertEquals(1, exists.code());
        assertTrue(exists.err().contains("already exists; remove it or pass --overwrite"), exists.err());

        Run noHypothesis = run("entail", "--input", images.toString(), "--output", dir.resolve("y").toString(),
                "--master", "local[2]");
        assertEquals(1, noHypothesis.code());
        assertTrue(noHypothesis.err().contains("entail needs --hypothesis TEXT"), noHypothesis.err());
    }

    /** A JSON line's caption and trace equal the session's result, exit layers included. */
    private static void assertSameCaptionJson(GenerationResult expected, JsonNode o) {
        String what = o.toString();
        assertTrue(o.get("error").isNull(), what);
        assertEquals(expected.text(), o.get("caption").asText(), what);
        Map<String, Integer> encoder = new LinkedHashMap<>();
        for (EncoderExit e : expected.trace().encoder()) {
            encoder.put(e.stream().label(), e.exitLayer());
        }
        Map<String, Integer> written = new LinkedHashMap<>();
        o.get("encoder_exit_layers").properties().forEach(e -> written.put(e.getKey(), e.getValue().asInt()));
        assertEquals(encoder, written, what);
        List<Integer> decoder = new ArrayList<>();
        o.get("decoder_exit_layers").forEach(n -> decoder.add(n.asInt()));
        assertEquals(expected.trace().decoder().stream().map(DecoderStepTrace::exitLayer).toList(), decoder, what);
        assertEquals(expected.trace().layerReduction(), o.get("expected_layer_reduction").asDouble(), 0.0, what);
        assertEquals(expected.trace().wholePassFlopReduction(), o.get("expected_flop_reduction").asDouble(), 0.0, what);
    }
}
