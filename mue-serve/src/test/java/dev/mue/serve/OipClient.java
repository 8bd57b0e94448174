package dev.mue.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** A loopback OIP client for the tests: Java's HttpClient (HTTP/1.1), request builders, JSON replies. */
final class OipClient {
    static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final URI base;

    OipClient(URI base) {
        this.base = base;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    /** A reply: status, headers and body. */
    record Reply(int status, Map<String, List<String>> headers, byte[] body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + text(), e);
            }
        }

        /** The JSON part of a body that may carry binary data after it. */
        JsonNode jsonHeader() {
            int n = headerLength();
            try {
                return n < 0 ? json() : JSON.readTree(Arrays.copyOf(body, n));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        int headerLength() {
            List<String> h = headers.get("inference-header-content-length");
            return h == null ? -1 : Integer.parseInt(h.get(0));
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            List<String> h = headers.get(name.toLowerCase(java.util.Locale.ROOT));
            return h == null ? null : h.get(0);
        }

        String error() {
            return json().path("error").asText(null);
        }

        @Override
        public String toString() {
            return status + " " + (headerLength() < 0 ? text() : "(binary)");
        }
    }

    Reply get(String path) {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET());
    }

    Reply post(String path, byte[] body) {
        return post(path, body, Map.of());
    }

    Reply post(String path, byte[] body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        b.header("Content-Type", headers.containsKey("Inference-Header-Content-Length") ? "application/octet-stream"
                : "application/json");
        headers.forEach(b::header);
        return send(b);
    }

    Reply post(String path, JsonNode body) {
        return post(path, bytes(body));
    }

    private Reply send(HttpRequest.Builder b) {
        try {
            HttpResponse<byte[]> r = http.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Reply(r.statusCode(), r.headers().map(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(JsonNode n) {
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A caption request with these images, base64 in JSON. */
    static ObjectNode captionRequest(String id, byte[]... images) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        if (id != null) {
            o.put("id", id);
        }
        o.putArray("inputs").add(bytesInput("image", Arrays.stream(images).map(i -> Base64.getEncoder().encodeToString(i))
                .toList()));
        return o;
    }

    /** An entail request for one image and hypothesis (and premise when not null). */
    static ObjectNode entailRequest(String id, byte[] image, String hypothesis, String premise) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        if (id != null) {
            o.put("id", id);
        }
        ArrayNode inputs = o.putArray("inputs");
        inputs.add(bytesInput("image", List.of(Base64.getEncoder().encodeToString(image))));
        inputs.add(bytesInput("hypothesis", List.of(hypothesis)));
        if (premise != null) {
            inputs.add(bytesInput("premise", List.of(premise)));
        }
        return o;
    }

    static ObjectNode bytesInput(String name, List<String> data) {
        ObjectNode in = JsonNodeFactory.instance.objectNode();
        in.put("name", name);
        in.put("datatype", "BYTES");
        in.putArray("shape").add(data.size());
        ArrayNode d = in.putArray("data");
        data.forEach(d::add);
        return in;
    }

    /** Elements in the binary-data extension's BYTES layout: a 4-byte little-endian length, then the bytes. */
    static byte[] binaryElements(byte[]... elements) {
        int n = 0;
        for (byte[] e : elements) {
            n += 4 + e.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] e : elements) {
            b.putInt(e.length).put(e);
        }
        return b.array();
    }

    /** The strings of a BYTES tensor sent as binary data. */
    static List<String> readBinaryStrings(byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        while (b.hasRemaining()) {
            byte[] e = new byte[b.getInt()];
            b.get(e);
            out.add(new String(e, StandardCharsets.UTF_8));
        }
        return out;
    }

    /** A JSON header followed by binary data, and the header's length. */
    record Binary(byte[] body, int headerLength) {
        Map<String, String> headers() {
            return Map.of("Inference-Header-Content-Length", Integer.toString(headerLength));
        }
    }

    static Binary binary(JsonNode header, byte[] data) {
        byte[] h = bytes(header);
        byte[] body = Arrays.copyOf(h, h.length + data.length);
        System.arraycopy(data, 0, body, h.length, data.length);
        return new Binary(body, h.length);
    }
}
