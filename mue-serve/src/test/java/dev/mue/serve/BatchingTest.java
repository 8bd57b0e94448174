package dev.mue.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mue.api.EntailmentResult;
import dev.mue.api.GenerationResult;
import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.session.MueSession;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * Dynamic batching on a real server: concurrent requests share batches and each gets exactly what
 * it would get alone (caption, exit trace, entailment probabilities), none mixed up; requests with
 * different policies never share a batch; a request that fails its batch fails alone.
 *
 * <p>Where a test needs a batch of a known size it gives the server a long {@code --max-delay-ms},
 * so that the batch forms only when it is full: no assertion depends on timing.
 */
class BatchingTest {
    private static final long LONG_DELAY_MS = 120_000;

    @Test
    void thirtyTwoConcurrentClientsEachGetTheirOwnCaption() throws Exception {
        try (MueServer server = MueServer.start(Fixtures.spec(), ServeConfig.defaults(0))) {
            OipClient client = new OipClient(server.uri());
            int clients = 32;
            int rounds = 2;
            List<Callable<List<OipClient.Reply>>> calls = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int id = c;
                calls.add(() -> {
                    List<OipClient.Reply> replies = new ArrayList<>();
                    for (int k = 0; k < rounds; k++) {
                        int sample = (id + k) % Fixtures.SAMPLE_COUNT;
                        replies.add(client.post("/v2/models/caption/infer",
                                OipClient.captionRequest("c" + id + "-" + k + "-s" + sample, Fixtures.sampleBytes(sample))));
                    }
                    return replies;
                });
            }
            List<List<OipClient.Reply>> all = Concurrently.run(calls);
            for (int c = 0; c < clients; c++) {
                for (int k = 0; k < rounds; k++) {
                    int sample = (c + k) % Fixtures.SAMPLE_COUNT;
                    OipClient.Reply r = all.get(c).get(k);
                    assertEquals(200, r.status(), r::toString);
                    JsonNode body = r.json();
                    assertEquals("c" + c + "-" + k + "-s" + sample, body.path("id").asText());
                    GenerationResult expected = Fixtures.captions().get(sample);
                    assertEquals(expected.text(), body.path("outputs").path(0).path("data").path(0).asText(),
                            "client " + c + " round " + k);
                    ServeTest.assertTraceEquals(expected.trace(), body.path("parameters"), 0);
                }
            }
            // every element ran in exactly one batch: the batch sizes add up to the requests
            String metrics = client.get("/metrics").text();
            assertEquals(clients * rounds, ServeTest.value(metrics, "mue_batch_size_sum{model=\"caption\"}"));
            assertEquals(clients * rounds, ServeTest.value(metrics, "mue_infer_requests_total{model=\"caption\",status=\"200\"}"));
        }
    }

    @Test
    void aFullBatchRunsAtOnceAndEachGetsWhatItWouldAlone() throws Exception {
        ServeConfig config = ServeConfig.defaults(0).withBatching(Fixtures.SAMPLE_COUNT, LONG_DELAY_MS)
                .withQueue(64, 1, 2 * LONG_DELAY_MS);
        try (MueServer server = MueServer.start(Fixtures.spec(), config)) {
            OipClient client = new OipClient(server.uri());
            List<Callable<OipClient.Reply>> calls = new ArrayList<>();
            for (int i = 0; i < Fixtures.SAMPLE_COUNT; i++) {
                int sample = i;
                calls.add(() -> client.post("/v2/models/caption/infer",
                        OipClient.captionRequest("s" + sample, Fixtures.sampleBytes(sample))));
            }
            List<OipClient.Reply> replies = Concurrently.run(calls);
            for (int i = 0; i < replies.size(); i++) {
                JsonNode body = replies.get(i).json();
                assertEquals(200, replies.get(i).status(), replies.get(i)::toString);
                assertEquals(Fixtures.SAMPLE_COUNT, body.path("parameters").path("batch_size").asInt(), body.toString());
                assertEquals("s" + i, body.path("id").asText());
                assertEquals(Fixtures.captions().get(i).text(), body.path("outputs").path(0).path("data").path(0).asText());
                ServeTest.assertTraceEquals(Fixtures.captions().get(i).trace(), body.path("parameters"), 0);
            }

            // entailment: three hypotheses without a premise and one with, in one batch of four
            List<Callable<OipClient.Reply>> entail = new ArrayList<>();
            for (int h = 0; h < Fixtures.HYPOTHESES.size(); h++) {
                String hypothesis = Fixtures.HYPOTHESES.get(h);
                entail.add(() -> client.post("/v2/models/entail/infer",
                        OipClient.entailRequest(hypothesis, Fixtures.sampleBytes(0), hypothesis, null)));
            }
            entail.add(() -> client.post("/v2/models/entail/infer", OipClient.entailRequest("premise",
                    Fixtures.sampleBytes(0), Fixtures.HYPOTHESES.get(0), Fixtures.PREMISE)));
            // two more copies make the batch full (six), so it runs without waiting out the delay
            entail.add(() -> client.post("/v2/models/entail/infer", OipClient.entailRequest("copy1",
                    Fixtures.sampleBytes(0), Fixtures.HYPOTHESES.get(1), null)));
            entail.add(() -> client.post("/v2/models/entail/infer", OipClient.entailRequest("copy2",
                    Fixtures.sampleBytes(0), Fixtures.HYPOTHESES.get(2), null)));
            List<OipClient.Reply> er = Concurrently.run(entail);
            List<EntailmentResult> expected = new ArrayList<>(Fixtures.entailments());
            expected.add(Fixtures.entailmentWithPremise());
            expected.add(Fixtures.entailments().get(1));
            expected.add(Fixtures.entailments().get(2));
            for (int i = 0; i < er.size(); i++) {
                JsonNode body = er.get(i).json();
                assertEquals(200, er.get(i).status(), er.get(i)::toString);
                assertEquals(6, body.path("parameters").path("batch_size").asInt());
                assertEquals(expected.get(i).answer(), body.path("outputs").path(0).path("data").path(0).asText());
                int a = 0;
                for (String k : MueSession.ENTAILMENT_ANSWERS) {
                    assertEquals(expected.get(i).probabilities().get(k).floatValue(),
                            (float) body.path("outputs").path(1).path("data").path(a++).asDouble(), 0f, "request " + i + " " + k);
                }
                ServeTest.assertTraceEquals(expected.get(i).trace(), body.path("parameters"), 0);
            }
        }
    }

    @Test
    void requestsWithDifferentPoliciesNeverShareABatch() throws Exception {
        ServeConfig config = ServeConfig.defaults(0).withBatching(3, LONG_DELAY_MS).withQueue(64, 1, 2 * LONG_DELAY_MS);
        ExitPolicy base = Fixtures.spec().caption().policy();
        DecoderSchedule.Decay d = (DecoderSchedule.Decay) base.decoderSchedule();
        ExitPolicy strict = base.toBuilder().imageThreshold(1).decoderSchedule(new DecoderSchedule.Decay(1.0, d.beta(), d.tau()))
                .build();
        List<GenerationResult> strictExpected = new ArrayList<>();
        try (MueSession s = Fixtures.spec().open(new PolicyChoice(strict, "test", null))) {
            for (int i = 0; i < 3; i++) {
                strictExpected.add(s.caption(Fixtures.sample(i)));
            }
        }
        try (MueServer server = MueServer.start(Fixtures.spec(), config)) {
            OipClient client = new OipClient(server.uri());
            List<Callable<OipClient.Reply>> calls = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int sample = i;
                calls.add(() -> client.post("/v2/models/caption/infer",
                        OipClient.captionRequest("base" + sample, Fixtures.sampleBytes(sample))));
                calls.add(() -> {
                    ObjectNode req = OipClient.captionRequest("strict" + sample, Fixtures.sampleBytes(sample));
                    req.putObject("parameters").put("image_threshold", 1.0).put("decoder_threshold", 1.0);
                    return client.post("/v2/models/caption/infer", req);
                });
            }
            List<OipClient.Reply> replies = Concurrently.run(calls);
            for (int i = 0; i < 3; i++) {
                JsonNode b = replies.get(2 * i).json();
                JsonNode s = replies.get(2 * i + 1).json();
                assertEquals(3, b.path("parameters").path("batch_size").asInt(), b.toString());
                assertEquals(3, s.path("parameters").path("batch_size").asInt(), s.toString());
                assertEquals(Fixtures.captions().get(i).text(), b.path("outputs").path(0).path("data").path(0).asText());
                ServeTest.assertTraceEquals(Fixtures.captions().get(i).trace(), b.path("parameters"), 0);
                assertEquals(strictExpected.get(i).text(), s.path("outputs").path(0).path("data").path(0).asText());
                ServeTest.assertTraceEquals(strictExpected.get(i).trace(), s.path("parameters"), 0);
                assertNotEquals(b.path("parameters").path("policy").asText(), s.path("parameters").path("policy").asText());
            }
        }
    }

    @Test
    void aRequestThatFailsItsBatchFailsAloneAndTheOthersGetTheirAnswers() throws Exception {
        ServeConfig config = ServeConfig.defaults(0).withBatching(4, LONG_DELAY_MS).withQueue(64, 1, 2 * LONG_DELAY_MS);
        // Under the server's character limit, over the model's 80 text tokens: only the session finds it out,
        // when the batch runs.
        String tooManyTokens = "there is a sneaker and " .repeat(20).strip();
        try (MueServer server = MueServer.start(Fixtures.spec(), config)) {
            OipClient client = new OipClient(server.uri());
            List<Callable<OipClient.Reply>> calls = new ArrayList<>();
            for (int h = 0; h < Fixtures.HYPOTHESES.size(); h++) {
                String hypothesis = Fixtures.HYPOTHESES.get(h);
                calls.add(() -> client.post("/v2/models/entail/infer",
                        OipClient.entailRequest("good" + hypothesis, Fixtures.sampleBytes(0), hypothesis, null)));
            }
            calls.add(() -> client.post("/v2/models/entail/infer",
                    OipClient.entailRequest("bad", Fixtures.sampleBytes(0), tooManyTokens, null)));
            List<OipClient.Reply> replies = Concurrently.run(calls);
            for (int h = 0; h < Fixtures.HYPOTHESES.size(); h++) {
                OipClient.Reply r = replies.get(h);
                assertEquals(200, r.status(), r::toString);
                assertEquals(1, r.json().path("parameters").path("batch_size").asInt(), "rerun alone after the batch failed");
                assertEquals(Fixtures.entailments().get(h).answer(), r.json().path("outputs").path(0).path("data").path(0).asText());
                ServeTest.assertTraceEquals(Fixtures.entailments().get(h).trace(), r.json().path("parameters"), 0);
            }
            OipClient.Reply bad = replies.get(3);
            assertEquals(400, bad.status(), bad::toString);
            assertTrue(bad.error().contains("exceeds the limit"), bad.error());
            String metrics = client.get("/metrics").text();
            assertEquals(1, ServeTest.value(metrics, "mue_batch_size_count{model=\"entail\"}"), "one batch of four ran");
        }
    }
}
