package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code --json} output against the schema the repository documents
 * ({@code docs/cli-json.schema.json}), validated by a JSON Schema 2020-12 validator: real captions
 * and entailments (with and without a premise, with a flag-made and a certified policy), a runtime
 * error and a usage error, each on the stream and with the exit code the schema says.
 */
class JsonSchemaTest {
    static final Path SCHEMA = Path.of("..", "docs", "cli-json.schema.json");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Schema schema;

    @BeforeAll
    static void load() throws IOException {
        schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(Files.readString(SCHEMA), InputFormat.JSON);
    }

    private static JsonNode valid(String line) throws IOException {
        List<Error> errors = schema.validate(line, InputFormat.JSON);
        assertEquals(List.of(), errors.stream().map(Error::toString).toList(), line);
        JsonNode n = JSON.readTree(line);
        assertEquals(MueCli.JSON_SCHEMA_VERSION, n.get("schema_version").intValue());
        return n;
    }

    @Test
    void captionsFollowTheSchema() throws IOException {
        CliRun r = CliRun.of("caption", SampleImagesFixture.SAMPLES.resolve("fmnist-test-0.png").toString(),
                SampleImagesFixture.SAMPLES.resolve("fmnist-test-1.png").toString(), "--batch", "--json");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(2, r.outLines().size(), r.toString());
        for (String line : r.outLines()) {
            JsonNode n = valid(line);
            assertEquals("caption", n.get("task").textValue());
            assertTrue(n.get("policy").isObject(), "a structured policy: " + line);
            assertTrue(n.get("policy_certified").booleanValue(), "the shipped caption policy is certified");
        }
        CliRun flags = CliRun.of("caption", SampleImagesFixture.SAMPLES.resolve("fmnist-test-2.png").toString(),
                "--decoder-threshold", "0.9", "--schedule", "fixed", "--json");
        JsonNode n = valid(flags.outLines().get(0));
        assertEquals("fixed", n.at("/policy/decoder/schedule").textValue());
        assertEquals(0.9, n.at("/policy/decoder/theta").doubleValue());
        assertEquals(false, n.get("policy_certified").booleanValue());
    }

    @Test
    void entailmentsFollowTheSchema() throws IOException {
        String img = SampleImagesFixture.SAMPLES.resolve("fmnist-test-0.png").toString();
        for (CliRun r : List.of(CliRun.of("entail", img, "--hypothesis", "there is a sneaker", "--json"),
                CliRun.of("entail", img, "--hypothesis", "there is a sneaker", "--premise", "two bags", "--json"))) {
            assertEquals(0, r.exitCode(), r.toString());
            JsonNode n = valid(r.outLines().get(0));
            assertEquals(List.of("yes", "no", "maybe"), iterable(n.get("probabilities").fieldNames()));
        }
    }

    @Test
    void errorsAreJsonObjectsOnStandardErrorWithTheirExitCode() throws IOException {
        CliRun missing = CliRun.of("caption", "no-such-image.png", "--json");
        assertEquals(1, missing.exitCode(), missing.toString());
        assertEquals("", missing.out());
        assertEquals(1, missing.errLines().size(), missing.toString());
        JsonNode e = valid(missing.errLines().get(0)).get("error");
        assertEquals("image file not found: no-such-image.png", e.get("message").textValue());
        assertEquals("InvalidInputException", e.get("exception").textValue());
        assertEquals(1, e.get("exit_code").intValue());

        CliRun usage = CliRun.of("caption", "x.png", "--threads", "32768", "--json");
        assertEquals(2, usage.exitCode(), usage.toString());
        assertEquals("", usage.out());
        e = valid(usage.errLines().get(0)).get("error");
        assertTrue(e.get("message").textValue().startsWith("--threads must be 0 (one per core) to 1024, got 32768"),
                usage.toString());
        assertEquals(2, e.get("exit_code").intValue());
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
