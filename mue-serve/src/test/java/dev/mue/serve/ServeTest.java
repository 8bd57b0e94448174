package dev.mue.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mue.api.EncoderExit;
import dev.mue.api.EntailmentResult;
import dev.mue.api.ExitTrace;
import dev.mue.api.GenerationResult;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.serve.infer.TraceParameters;
import dev.mue.session.MueSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OIP routes of a real server on a loopback port, answered by the real default model: health,
 * metadata, captions and entailment answers equal to the session's (what {@code mue caption} and
 * {@code mue entail} print) with their exit traces in the parameters, several images in one
 * request, the binary-data extension both ways, a request's own policy, and the metrics.
 */
class ServeTest {
    private static MueServer server;
    private static OipClient client;

    @BeforeAll
    static void start() {
        server = MueServer.start(Fixtures.spec(), ServeConfig.defaults(0));
        client = new OipClient(server.uri());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.shutdown();
        }
    }

    @Test
    void healthAndMetadataFollowTheProtocol() {
        assertEquals(200, client.get("/v2/health/live").status());
        OipClient.Reply ready = client.get("/v2/health/ready");
        assertEquals(200, ready.status());
        assertTrue(ready.json().path("ready").asBoolean());
        JsonNode meta = client.get("/v2").json();
        assertEquals("mue", meta.path("name").asText());
        assertEquals("binary_tensor_data", meta.path("extensions").path(0).asText());

        JsonNode caption = client.get("/v2/models/caption").json();
        assertEquals("caption", caption.path("name").asText());
        assertEquals("1", caption.path("versions").path(0).asText());
        assertEquals("image", caption.path("inputs").path(0).path("name").asText());
        assertEquals("BYTES", caption.path("inputs").path(0).path("datatype").asText());
        assertEquals("caption", caption.path("outputs").path(0).path("name").asText());
        assertTrue(caption.path("parameters").path("policy_source").asText().contains("policy.json"), caption.toString());

        JsonNode entail = client.get("/v2/models/entail/versions/1").json();
        assertEquals(List.of("image", "hypothesis", "premise"), names(entail.path("inputs")));
        assertEquals(List.of("answer", "probabilities"), names(entail.path("outputs")));
        assertEquals("FP32", entail.path("outputs").path(1).path("datatype").asText());
        assertEquals("[-1,3]", entail.path("outputs").path(1).path("shape").toString());
        assertTrue(entail.path("inputs").path(2).path("parameters").path("optional").asBoolean());
        assertEquals(200, client.get("/v2/models/entail/ready").status());
    }

    private static List<String> names(JsonNode specs) {
        return java.util.stream.StreamSupport.stream(specs.spliterator(), false).map(n -> n.path("name").asText()).toList();
    }

    @Test
    void captionsAndTheirExitTracesEqualTheSessions() {
        for (int i = 0; i < Fixtures.SAMPLE_COUNT; i++) {
            OipClient.Reply r = client.post("/v2/models/caption/infer", OipClient.captionRequest("sample-" + i,
                    Fixtures.sampleBytes(i)));
            assertEquals(200, r.status(), r::toString);
            JsonNode body = r.json();
            assertEquals("sample-" + i, body.path("id").asText());
            assertEquals("caption", body.path("model_name").asText());
            JsonNode out = body.path("outputs").path(0);
            assertEquals("caption", out.path("name").asText());
            assertEquals("BYTES", out.path("datatype").asText());
            assertEquals("[1]", out.path("shape").toString());
            GenerationResult expected = Fixtures.captions().get(i);
            assertEquals(expected.text(), out.path("data").path(0).asText(), "sample " + i);
            assertTraceEquals(expected.trace(), body.path("parameters"), 0);
            assertTrue(body.path("parameters").path("policy_source").asText().startsWith("bundle policy.json"),
                    body.path("parameters").toString());
        }
    }

    static void assertTraceEquals(ExitTrace expected, JsonNode parameters, int element) {
        String k = "exit." + element + ".";
        for (EncoderExit e : expected.encoder()) {
            String key = k + e.stream().name().toLowerCase(Locale.ROOT) + "_layer";
            assertEquals(e.exitLayer(), parameters.path(key).asInt(-1), key + " in " + parameters);
        }
        assertEquals(TraceParameters.decoderLayers(expected.decoder()), parameters.path(k + "decoder_layers").asText());
        assertEquals(expected.layerReduction(), parameters.path(k + "layer_reduction").asDouble(), 1e-6);
        assertEquals(expected.flopReduction(), parameters.path(k + "flop_reduction").asDouble(), 1e-6);
        assertEquals(expected.wholePassFlopReduction(), parameters.path(k + "whole_pass_flop_reduction").asDouble(), 1e-6);
    }

    @Test
    void severalImagesInOneRequestComeBackInTheirOrder() {
        int[] order = {2, 0, 5};
        OipClient.Reply r = client.post("/v2/models/caption/infer", OipClient.captionRequest(null,
                Fixtures.sampleBytes(2), Fixtures.sampleBytes(0), Fixtures.sampleBytes(5)));
        assertEquals(200, r.status(), r::toString);
        JsonNode out = r.json().path("outputs").path(0);
        assertEquals("[3]", out.path("shape").toString());
        for (int j = 0; j < order.length; j++) {
            GenerationResult expected = Fixtures.captions().get(order[j]);
            assertEquals(expected.text(), out.path("data").path(j).asText());
            assertTraceEquals(expected.trace(), r.json().path("parameters"), j);
        }
    }

    @Test
    void entailmentAnswersAndProbabilitiesEqualTheSessions() {
        for (int h = 0; h < Fixtures.HYPOTHESES.size(); h++) {
            OipClient.Reply r = client.post("/v2/models/entail/infer", OipClient.entailRequest("h" + h,
                    Fixtures.sampleBytes(0), Fixtures.HYPOTHESES.get(h), null));
            assertEquals(200, r.status(), r::toString);
            assertEntailment(Fixtures.entailments().get(h), r.json());
        }
        OipClient.Reply r = client.post("/v2/models/entail/infer", OipClient.entailRequest("p", Fixtures.sampleBytes(0),
                Fixtures.HYPOTHESES.get(0), Fixtures.PREMISE));
        assertEquals(200, r.status(), r::toString);
        assertEntailment(Fixtures.entailmentWithPremise(), r.json());
    }

    private static void assertEntailment(EntailmentResult expected, JsonNode body) {
        JsonNode answer = body.path("outputs").path(0);
        JsonNode probs = body.path("outputs").path(1);
        assertEquals("answer", answer.path("name").asText());
        assertEquals(expected.answer(), answer.path("data").path(0).asText());
        assertEquals("probabilities", probs.path("name").asText());
        assertEquals("[1,3]", probs.path("shape").toString());
        int a = 0;
        for (String k : MueSession.ENTAILMENT_ANSWERS) {
            assertEquals(expected.probabilities().get(k).floatValue(), (float) probs.path("data").path(a++).asDouble(), 0f, k);
        }
        assertTraceEquals(expected.trace(), body.path("parameters"), 0);
    }

    @Test
    void binaryDataTravelsBothWays() {
        ObjectNode header = OipClient.JSON.createObjectNode();
        header.put("id", "bin");
        byte[] data = OipClient.binaryElements(Fixtures.sampleBytes(3), Fixtures.sampleBytes(1));
        ObjectNode image = header.putArray("inputs").addObject();
        image.put("name", "image").put("datatype", "BYTES");
        image.putArray("shape").add(2);
        image.putObject("parameters").put("binary_data_size", data.length);
        header.putArray("outputs").addObject().put("name", "caption").putObject("parameters").put("binary_data", true);
        OipClient.Binary req = OipClient.binary(header, data);
        OipClient.Reply r = client.post("/v2/models/caption/infer", req.body(), req.headers());
        assertEquals(200, r.status(), r::toString);
        assertEquals("application/octet-stream", r.header("content-type"));
        JsonNode out = r.jsonHeader().path("outputs").path(0);
        int size = out.path("parameters").path("binary_data_size").asInt();
        assertTrue(out.path("data").isMissingNode(), out.toString());
        assertEquals(r.body().length, r.headerLength() + size);
        List<String> captions = OipClient.readBinaryStrings(Arrays.copyOfRange(r.body(), r.headerLength(), r.body().length));
        assertEquals(List.of(Fixtures.captions().get(3).text(), Fixtures.captions().get(1).text()), captions);

        // entailment: binary text in, every output binary (binary_data_output), probabilities as little-endian floats
        ObjectNode eh = OipClient.JSON.createObjectNode();
        eh.putObject("parameters").put("binary_data_output", true);
        byte[] img = OipClient.binaryElements(Fixtures.sampleBytes(0));
        byte[] hyp = OipClient.binaryElements(Fixtures.HYPOTHESES.get(1).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        var inputs = eh.putArray("inputs");
        ObjectNode i1 = inputs.addObject().put("name", "image").put("datatype", "BYTES");
        i1.putArray("shape").add(1);
        i1.putObject("parameters").put("binary_data_size", img.length);
        ObjectNode i2 = inputs.addObject().put("name", "hypothesis").put("datatype", "BYTES");
        i2.putArray("shape").add(1).add(1);
        i2.putObject("parameters").put("binary_data_size", hyp.length);
        byte[] both = Arrays.copyOf(img, img.length + hyp.length);
        System.arraycopy(hyp, 0, both, img.length, hyp.length);
        OipClient.Binary ereq = OipClient.binary(eh, both);
        OipClient.Reply er = client.post("/v2/models/entail/infer", ereq.body(), ereq.headers());
        assertEquals(200, er.status(), er::toString);
        JsonNode outs = er.jsonHeader().path("outputs");
        int answerSize = outs.path(0).path("parameters").path("binary_data_size").asInt();
        int probSize = outs.path(1).path("parameters").path("binary_data_size").asInt();
        assertEquals(12, probSize);
        int at = er.headerLength();
        assertEquals(List.of(Fixtures.entailments().get(1).answer()),
                OipClient.readBinaryStrings(Arrays.copyOfRange(er.body(), at, at + answerSize)));
        ByteBuffer p = ByteBuffer.wrap(er.body(), at + answerSize, probSize).order(ByteOrder.LITTLE_ENDIAN);
        for (String k : MueSession.ENTAILMENT_ANSWERS) {
            assertEquals(Fixtures.entailments().get(1).probabilities().get(k).floatValue(), p.getFloat(), 0f, k);
        }
    }

    @Test
    void aRequestMaySetThresholdsAndGetsWhatThatPolicysSessionGives() {
        ObjectNode req = OipClient.captionRequest("full", Fixtures.sampleBytes(4));
        req.putObject("parameters").put("image_threshold", 1.0).put("text_threshold", 1.0).put("decoder_threshold", 1.0);
        OipClient.Reply r = client.post("/v2/models/caption/infer", req);
        assertEquals(200, r.status(), r::toString);
        ExitPolicy base = Fixtures.spec().caption().policy();
        ExitPolicy full = base.toBuilder().imageThreshold(1).textThreshold(1)
                .decoderSchedule(new dev.mue.api.policy.DecoderSchedule.Decay(1.0,
                        ((dev.mue.api.policy.DecoderSchedule.Decay) base.decoderSchedule()).beta(),
                        ((dev.mue.api.policy.DecoderSchedule.Decay) base.decoderSchedule()).tau())).build();
        GenerationResult expected;
        try (MueSession s = Fixtures.spec().open(new PolicyChoice(full, "test", null))) {
            expected = s.caption(Fixtures.sample(4));
        }
        JsonNode body = r.json();
        assertEquals(expected.text(), body.path("outputs").path(0).path("data").path(0).asText());
        assertTraceEquals(expected.trace(), body.path("parameters"), 0);
        // threshold 1 never exits: both encoder streams run every layer (the decay schedule's decoder still may)
        assertEquals(6, body.path("parameters").path("exit.0.image_layer").asInt());
        assertEquals(6, body.path("parameters").path("exit.0.text_layer").asInt());
        assertTrue(body.path("parameters").path("policy_source").asText().startsWith("request parameters over bundle"),
                body.toString());
        assertNotEquals(Fixtures.captions().get(4).trace().layerReduction(), expected.trace().layerReduction(),
                "the bundle's policy exits early on this sample, so the override is visible");
    }

    @Test
    void metricsCountRequestsBatchesAndExits() {
        assertEquals(200, client.post("/v2/models/caption/infer", OipClient.captionRequest(null, Fixtures.sampleBytes(0)))
                .status());
        OipClient.Reply m = client.get("/metrics");
        assertEquals(200, m.status());
        assertTrue(m.header("content-type").startsWith("text/plain; version=0.0.4"), m.header("content-type"));
        String text = m.text();
        for (String expected : List.of("# TYPE mue_infer_requests_total counter",
                "mue_infer_requests_total{model=\"caption\",status=\"200\"} ",
                "# TYPE mue_infer_request_duration_seconds histogram",
                "mue_infer_request_duration_seconds_bucket{model=\"caption\",le=\"+Inf\"} ",
                "mue_batch_size_count{model=\"caption\"} ", "mue_queue_depth{model=\"caption\"} 0",
                "mue_queue_wait_seconds_count{model=\"caption\"} ",
                "mue_exit_layer_bucket{model=\"caption\",stream=\"image\",le=\"6\"} ",
                "mue_exit_layer_bucket{model=\"caption\",stream=\"decoder\",le=\"1\"} ",
                "mue_layers_saved_total{model=\"caption\",stream=\"decoder\"} ",
                "mue_inflight_requests ")) {
            assertTrue(text.contains(expected), "missing '" + expected + "' in:\n" + text);
        }
        // the exit-layer histogram counts one observation per example and stream: as many as image exits
        long images = value(text, "mue_exit_layer_count{model=\"caption\",stream=\"image\"}");
        long captions = value(text, "mue_infer_requests_total{model=\"caption\",status=\"200\"}");
        assertTrue(images >= captions, images + " image exits for " + captions + " requests");
    }

    static long value(String exposition, String series) {
        return exposition.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> (long) Double.parseDouble(l.substring(series.length() + 1)))
                .orElseThrow(() -> new AssertionError("no " + series + " in:\n" + exposition));
    }
}
