package dev.mue.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Shutdown drains: requests already queued run at once (without waiting out the batch delay) and
 * get their answers; afterwards the port is closed.
 */
class DrainTest {
    @Test
    void shutdownAnswersTheQueuedRequestsThenClosesThePort() throws Exception {
        // A ten-minute batch delay: only the drain can start these requests' batch in time.
        ServeConfig config = ServeConfig.defaults(0).withBatching(8, 600_000).withQueue(64, 1, 1_200_000);
        MueServer server = MueServer.start(Fixtures.spec(), config);
        OipClient client = new OipClient(server.uri());
        List<CompletableFuture<OipClient.Reply>> pending = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int sample = i;
            pending.add(CompletableFuture.supplyAsync(() -> client.post("/v2/models/caption/infer",
                    OipClient.captionRequest("d" + sample, Fixtures.sampleBytes(sample)))));
        }
        awaitQueueDepth(client, 3);
        server.shutdown();
        assertFalse(server.isReady());
        for (int i = 0; i < 3; i++) {
            OipClient.Reply r = pending.get(i).get(60, TimeUnit.SECONDS);
            assertEquals(200, r.status(), r::toString);
            assertEquals("d" + i, r.json().path("id").asText());
            assertEquals(3, r.json().path("parameters").path("batch_size").asInt());
            assertEquals(Fixtures.captions().get(i).text(), r.json().path("outputs").path(0).path("data").path(0).asText());
        }
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> client.get("/v2/health/live"));
        assertTrue(e.getCause() instanceof ConnectException, e.toString());
    }

    /** Polls {@code /metrics} (at most 600 times, 50 ms apart) until the caption queue holds {@code n} elements. */
    static void awaitQueueDepth(OipClient client, int n) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            if (ServeTest.value(client.get("/metrics").text(), "mue_queue_depth{model=\"caption\"}") == n) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the caption queue never held " + n + " elements");
    }
}
