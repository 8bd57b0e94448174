package dev.mue.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * Under more load than the queue holds the server refuses with 503 and {@code Retry-After}, at
 * once, and answers everything it took: every request gets exactly one response, the accepted ones
 * their own caption, and the counts in the metrics match what the clients saw. A request whose
 * deadline passes gets 503 too.
 */
class OverloadTest {
    @Test
    void aFullQueueRefusesWithRetryAfterAndLosesOrDuplicatesNothing() throws Exception {
        // One element per batch, two waiting at most: 24 clients at once cannot all fit.
        ServeConfig config = ServeConfig.defaults(0).withBatching(1, 0).withQueue(2, 1, 60_000);
        try (MueServer server = MueServer.start(Fixtures.spec(), config)) {
            OipClient client = new OipClient(server.uri());
            int ok = 0;
            int refused = 0;
            Set<String> seen = new HashSet<>();
            for (int wave = 0; wave < 5 && refused == 0; wave++) {
                List<Callable<OipClient.Reply>> calls = new ArrayList<>();
                for (int c = 0; c < 24; c++) {
                    String id = "w" + wave + "-c" + c;
                    int sample = c % Fixtures.SAMPLE_COUNT;
                    calls.add(() -> client.post("/v2/models/caption/infer",
                            OipClient.captionRequest(id, Fixtures.sampleBytes(sample))));
                }
                List<OipClient.Reply> replies = Concurrently.run(calls);
                for (int c = 0; c < replies.size(); c++) {
                    OipClient.Reply r = replies.get(c);
                    if (r.status() == 200) {
                        ok++;
                        JsonNode body = r.json();
                        String id = body.path("id").asText();
                        assertEquals("w" + wave + "-c" + c, id, "a response for another request");
                        assertTrue(seen.add(id), "two responses for " + id);
                        assertEquals(Fixtures.captions().get(c % Fixtures.SAMPLE_COUNT).text(),
                                body.path("outputs").path(0).path("data").path(0).asText());
                    } else {
                        assertEquals(503, r.status(), r::toString);
                        refused++;
                        assertNotNull(r.header("retry-after"), "503 without Retry-After");
                        assertTrue(r.error().contains("queue is full"), r.error());
                    }
                }
            }
            assertTrue(refused > 0, "no request was refused in 5 waves of 24");
            assertTrue(ok > 0, "no request was served");
            String metrics = client.get("/metrics").text();
            assertEquals(ok, ServeTest.value(metrics, "mue_infer_requests_total{model=\"caption\",status=\"200\"}"));
            assertEquals(refused, ServeTest.value(metrics, "mue_infer_requests_total{model=\"caption\",status=\"503\"}"));
            assertEquals(ok, ServeTest.value(metrics, "mue_batch_size_sum{model=\"caption\"}"), "each accepted element ran once");
            assertEquals(0, ServeTest.value(metrics, "mue_queue_depth{model=\"caption\"}"));
        }
    }

    @Test
    void aRequestPastItsDeadlineGets503() {
        // A 1 ms deadline: no caption is that fast, so it passes while the request waits or runs.
        ServeConfig config = ServeConfig.defaults(0).withQueue(64, 1, 1);
        try (MueServer server = MueServer.start(Fixtures.spec(), config)) {
            OipClient client = new OipClient(server.uri());
            OipClient.Reply r = client.post("/v2/models/caption/infer", OipClient.captionRequest(null, Fixtures.sampleBytes(0)));
            assertEquals(503, r.status(), r::toString);
            assertTrue(r.error().contains("deadline passed"), r.error());
            assertNotNull(r.header("retry-after"));
            assertEquals(200, client.get("/v2/health/ready").status(), "a missed deadline does not make the server unready");
        }
    }
}
