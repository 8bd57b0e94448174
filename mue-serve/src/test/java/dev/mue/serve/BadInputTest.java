package dev.mue.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every kind of bad request gets its status and an OIP error body ({@code {"error": "..."}},
 * {@code application/json}) that names the problem, and leaves the server serving: malformed JSON,
 * wrong datatype or shape, bad base64, undecodable images, text over the limit, bad binary data,
 * unknown inputs, outputs, parameters, models and routes, a wrong method, a body over the limit.
 */
class BadInputTest {
    private static final int MAX_TEXT = 100;
    private static final long MAX_BODY = 64 * 1024;
    private static MueServer server;
    private static OipClient client;

    @BeforeAll
    static void start() {
        server = MueServer.start(Fixtures.spec(), ServeConfig.defaults(0).withInputLimits(MAX_BODY, MAX_TEXT));
        client = new OipClient(server.uri());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.shutdown();
        }
    }

    private static void assertRefused(int status, String fragment, OipClient.Reply r) {
        assertEquals(status, r.status(), r::toString);
        assertTrue(r.header("content-type").startsWith("application/json"), r.header("content-type"));
        String error = r.error();
        assertTrue(error != null && error.contains(fragment), "expected '" + fragment + "' in: " + r.text());
    }

    private static OipClient.Reply caption(String json) {
        return client.post("/v2/models/caption/infer", json.getBytes(StandardCharsets.UTF_8));
    }

    private static String image0() {
        return Base64.getEncoder().encodeToString(Fixtures.sampleBytes(0));
    }

    @Test
    void malformedOrMisshapenJsonIs400() {
        assertRefused(400, "malformed JSON", caption("{\"inputs\": ["));
        assertRefused(400, "malformed JSON", caption("{\"inputs\": []} trailing"));
        assertRefused(400, "must be a JSON object", caption("[1, 2]"));
        assertRefused(400, "empty request body", caption(""));
        assertRefused(400, "'inputs' must be a non-empty array", caption("{\"id\": \"x\"}"));
        assertRefused(400, "'name' must be a string", caption("{\"inputs\": [{\"datatype\": \"BYTES\", \"shape\": [1]}]}"));
        assertRefused(400, "'id' must be a string", caption("{\"id\": 5, \"inputs\": [{}]}"));
    }

    @Test
    void wrongDatatypeOrShapeIs400() {
        assertRefused(400, "datatype FP32", caption(
                "{\"inputs\": [{\"name\": \"image\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1.0]}]}"));
        assertRefused(400, "shape [1,2]", caption(
                "{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", \"shape\": [1,2], \"data\": [\"a\", \"b\"]}]}"));
        assertRefused(400, "(2 elements) but 1 data elements", caption(
                "{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", \"shape\": [2], \"data\": [\"" + image0() + "\"]}]}"));
        assertRefused(400, "non-negative integers", caption(
                "{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", \"shape\": [-1], \"data\": []}]}"));
        assertRefused(400, "element 0 is a number", caption(
                "{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [7]}]}"));
        assertRefused(400, "over this server's --max-batch", caption(
                "{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", \"shape\": [9], \"data\": "
                        + "[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]}]}"));
        ObjectNode mismatch = OipClient.entailRequest(null, Fixtures.sampleBytes(0), "there is a coat", null);
        ((ObjectNode) mismatch.path("inputs").path(1)).putArray("shape").add(2);
        ((ObjectNode) mismatch.path("inputs").path(1)).putArray("data").add("a").add("b");
        assertRefused(400, "has 2 elements but the other inputs have 1", client.post("/v2/models/entail/infer", mismatch));
    }

    @Test
    void badBase64AndUndecodableImagesAre400NamingTheElement() {
        assertRefused(400, "input 'image' element 1 is not valid base64", client.post("/v2/models/caption/infer",
                OipClient.captionRequest(null, Fixtures.sampleBytes(0)).put("id", "x").set("inputs",
                        OipClient.JSON.createArrayNode().add(OipClient.bytesInput("image", List.of(image0(), "!!not base64!!"))))));
        assertRefused(400, "not a readable image", client.post("/v2/models/caption/infer",
                OipClient.captionRequest(null, "hello, I am not a picture".getBytes(StandardCharsets.UTF_8))));
        byte[] png = Fixtures.sampleBytes(0);
        assertRefused(400, "input 'image' element 0 is damaged or truncated", client.post("/v2/models/caption/infer",
                OipClient.captionRequest(null, Arrays.copyOf(png, png.length / 2))));
        assertRefused(400, "empty (0 bytes)", client.post("/v2/models/caption/infer", OipClient.captionRequest(null, new byte[0])));
    }

    @Test
    void textOverTheLimitOrEmptyIs400() {
        String longText = "a sneaker ".repeat(15);
        assertRefused(400, "input 'hypothesis' element 0 has 150 characters, over this server's limit of 100",
                client.post("/v2/models/entail/infer", OipClient.entailRequest(null, Fixtures.sampleBytes(0), longText, null)));
        assertRefused(400, "input 'premise' element 0 has 150 characters", client.post("/v2/models/entail/infer",
                OipClient.entailRequest(null, Fixtures.sampleBytes(0), "there is a coat", longText)));
        assertRefused(400, "input 'hypothesis' element 0 is empty", client.post("/v2/models/entail/infer",
                OipClient.entailRequest(null, Fixtures.sampleBytes(0), "  ", null)));
        ObjectNode noHypothesis = OipClient.captionRequest(null, Fixtures.sampleBytes(0));
        assertRefused(400, "needs input 'hypothesis'", client.post("/v2/models/entail/infer", noHypothesis));
    }

    @Test
    void unknownInputsOutputsAndParametersAre400() {
        ObjectNode req = OipClient.captionRequest(null, Fixtures.sampleBytes(0));
        ((ObjectNode) req.path("inputs").path(0)).put("name", "photo");
        assertRefused(400, "has no input 'photo'", client.post("/v2/models/caption/infer", req));
        ObjectNode out = OipClient.captionRequest(null, Fixtures.sampleBytes(0));
        out.putArray("outputs").addObject().put("name", "tokens");
        assertRefused(400, "has no output 'tokens'", client.post("/v2/models/caption/infer", out));
        ObjectNode param = OipClient.captionRequest(null, Fixtures.sampleBytes(0));
        param.putObject("parameters").put("image_treshold", 0.95);
        assertRefused(400, "unknown request parameter 'image_treshold'", client.post("/v2/models/caption/infer", param));
        ObjectNode low = OipClient.captionRequest(null, Fixtures.sampleBytes(0));
        low.putObject("parameters").put("decoder_threshold", 0.5);
        assertRefused(400, "outside this server's bounds [0.9, 1]", client.post("/v2/models/caption/infer", low));
        ObjectNode word = OipClient.captionRequest(null, Fixtures.sampleBytes(0));
        word.putObject("parameters").put("text_threshold", "high");
        assertRefused(400, "must be a number", client.post("/v2/models/caption/infer", word));
        ObjectNode nested = OipClient.captionRequest(null, Fixtures.sampleBytes(0));
        nested.putObject("parameters").putObject("trace").put("x", 1);
        assertRefused(400, "must be a string, number or boolean", client.post("/v2/models/caption/infer", nested));
    }

    @Test
    void badBinaryDataIs400() {
        byte[] data = OipClient.binaryElements(Fixtures.sampleBytes(0));
        ObjectNode header = OipClient.JSON.createObjectNode();
        ObjectNode in = header.putArray("inputs").addObject().put("name", "image").put("datatype", "BYTES");
        in.putArray("shape").add(1);
        in.putObject("parameters").put("binary_data_size", data.length);
        OipClient.Binary ok = OipClient.binary(header, data);

        assertRefused(400, "must be a byte count", client.post("/v2/models/caption/infer", ok.body(),
                Map.of("Inference-Header-Content-Length", "ten")));
        assertRefused(400, "is outside the body", client.post("/v2/models/caption/infer", ok.body(),
                Map.of("Inference-Header-Content-Length", Integer.toString(ok.body().length + 1))));
        assertRefused(400, "has no Inference-Header-Content-Length", client.post("/v2/models/caption/infer",
                Arrays.copyOf(ok.body(), ok.headerLength())));
        byte[] extra = Arrays.copyOf(ok.body(), ok.body().length + 3);
        assertRefused(400, "add up to", client.post("/v2/models/caption/infer", extra, ok.headers()));
        byte[] shortBody = Arrays.copyOf(ok.body(), ok.body().length - 10);
        assertRefused(400, "runs past the body", client.post("/v2/models/caption/infer", shortBody, ok.headers()));

        byte[] badUtf8 = OipClient.binaryElements(new byte[] {(byte) 0xC3, (byte) 0x28});
        ObjectNode eh = OipClient.entailRequest(null, Fixtures.sampleBytes(0), "x", null);
        ObjectNode h = (ObjectNode) eh.path("inputs").path(1);
        h.remove("data");
        h.putObject("parameters").put("binary_data_size", badUtf8.length);
        OipClient.Binary eb = OipClient.binary(eh, badUtf8);
        assertRefused(400, "input 'hypothesis' element 0 is not valid UTF-8", client.post("/v2/models/entail/infer",
                eb.body(), eb.headers()));
    }

    @Test
    void unknownModelsAndRoutesAre404AndAWrongMethodIs405() {
        assertRefused(404, "no model 'vqa'", client.post("/v2/models/vqa/infer", OipClient.captionRequest(null, new byte[1])));
        assertRefused(404, "has no version '2'", client.get("/v2/models/caption/versions/2"));
        assertRefused(404, "no route /v1/models", client.get("/v1/models"));
        assertRefused(404, "no route", client.get("/v2/models/caption/explain"));
        assertRefused(405, "takes POST, not GET", client.get("/v2/models/caption/infer"));
        assertRefused(405, "takes GET, not POST", client.post("/v2/health/ready", new byte[0]));
    }

    @Test
    void aBodyOverTheLimitIs413() {
        byte[] big = new byte[(int) MAX_BODY + 4096];
        Arrays.fill(big, (byte) 'A');
        byte[] json = ("{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\""
                + new String(big, StandardCharsets.US_ASCII) + "\"]}]}").getBytes(StandardCharsets.US_ASCII);
        // The server reads and drops the rest of the body before answering (up to twice the limit), so
        // the client always gets the 413 instead of a connection reset racing it; ten times in a row.
        for (int i = 0; i < 10; i++) {
            assertRefused(413, "over this server's limit of " + MAX_BODY, client.post("/v2/models/caption/infer", json));
        }
    }

    @Test
    void aSlowClientSendingTooLargeABodyStillReadsThe413() throws Exception {
        // Content-Length over the limit, the body sent in pauses: the server must not close the
        // connection with the client's data unread (a TCP reset that can destroy its own 413 before
        // the client reads it, and fails the client's next write), so every write succeeds and the
        // reply is the 413 with its reason.
        int length = (int) (MAX_BODY * 3 / 2);
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            java.io.OutputStream out = socket.getOutputStream();
            out.write(("POST /v2/models/caption/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] chunk = new byte[length / 8];
            Arrays.fill(chunk, (byte) ' ');
            for (int i = 0; i < 8; i++) {
                Thread.sleep(50);
                out.write(chunk);
                out.flush();
            }
            String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(reply.startsWith("HTTP/1.1 413"), reply);
            assertTrue(reply.contains("over this server's limit of " + MAX_BODY), reply);
        }
    }

    @Test
    void theServerStillServesAfterBadRequests() {
        caption("{not json");
        OipClient.Reply r = client.post("/v2/models/caption/infer", OipClient.captionRequest("ok", Fixtures.sampleBytes(5)));
        assertEquals(200, r.status(), r::toString);
        assertEquals(Fixtures.captions().get(5).text(), r.json().path("outputs").path(0).path("data").path(0).asText());
        String metrics = client.get("/metrics").text();
        assertTrue(ServeTest.value(metrics, "mue_infer_requests_total{model=\"caption\",status=\"400\"}") >= 1, metrics);
    }
}
