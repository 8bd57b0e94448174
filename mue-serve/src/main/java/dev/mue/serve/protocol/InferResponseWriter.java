package dev.mue.serve.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes OIP v2 bodies: inference responses (JSON, or JSON followed by binary tensor data for the
 * outputs that asked for it), model and server metadata, and error bodies ({@code {"error": "..."}}).
 */
public final class InferResponseWriter {
    /** Content type of a JSON body. */
    public static final String JSON = "application/json";
    /** Content type of a JSON header followed by binary data. */
    public static final String BINARY = "application/octet-stream";

    private final ObjectMapper mapper = new ObjectMapper();

    /**
     * An encoded body.
     *
     * @param body       the bytes
     * @param jsonLength the JSON header's length when binary data follows it, else -1
     */
    public record Encoded(byte[] body, int jsonLength) {
        /** The body's content type. */
        public String contentType() {
            return jsonLength < 0 ? JSON : BINARY;
        }
    }

    /** An empty JSON object to fill. */
    public ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }

    /** The OIP error body: {@code {"error": message}}. */
    public byte[] error(String message) {
        ObjectNode o = object();
        o.put("error", message);
        return bytes(o);
    }

    /** A JSON value's bytes. */
    public byte[] bytes(Object value) {
        try {
            return mapper.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write JSON", e);
        }
    }

    /** Model metadata: name, versions, platform, inputs and outputs. */
    public byte[] modelMetadata(String name, List<String> versions, String platform, List<TensorSpec> inputs,
            List<TensorSpec> outputs, Map<String, Object> parameters) {
        ObjectNode o = object();
        o.put("name", name);
        ArrayNode v = o.putArray("versions");
        versions.forEach(v::add);
        o.put("platform", platform);
        o.set("inputs", specs(inputs));
        o.set("outputs", specs(outputs));
        putParameters(o, parameters);
        return bytes(o);
    }

    private ArrayNode specs(List<TensorSpec> specs) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (TensorSpec s : specs) {
            ObjectNode t = a.addObject();
            t.put("name", s.name());
            t.put("datatype", s.datatype().name());
            ArrayNode shape = t.putArray("shape");
            s.shape().forEach(shape::add);
            if (s.optional()) {
                t.putObject("parameters").put("optional", true);
            }
        }
        return a;
    }

    /**
     * An inference response.
     *
     * @param binaryOutputs the names of the outputs to send as binary data
     */
    public Encoded response(String model, String version, String id, Map<String, Object> parameters,
            List<OutputTensor> outputs, Set<String> binaryOutputs) {
        ObjectNode o = object();
        o.put("model_name", model);
        o.put("model_version", version);
        if (id != null) {
            o.put("id", id);
        }
        putParameters(o, parameters);
        ArrayNode outs = o.putArray("outputs");
        ByteArrayOutputStream binary = new ByteArrayOutputStream();
        for (OutputTensor t : outputs) {
            ObjectNode j = outs.addObject();
            j.put("name", t.name());
            j.put("datatype", t.datatype().name());
            ArrayNode shape = j.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            if (binaryOutputs.contains(t.name())) {
                byte[] data = binary(t);
                j.putObject("parameters").put("binary_data_size", data.length);
                binary.writeBytes(data);
            } else {
                ArrayNode data = j.putArray("data");
                if (t.datatype() == Datatype.BYTES) {
                    t.strings().forEach(data::add);
                } else {
                    for (float f : t.floats()) {
                        data.add(f);
                    }
                }
            }
        }
        byte[] json = bytes(o);
        if (binary.size() == 0 && binaryOutputs.isEmpty()) {
            return new Encoded(json, -1);
        }
        byte[] body = new byte[json.length + binary.size()];
        System.arraycopy(json, 0, body, 0, json.length);
        System.arraycopy(binary.toByteArray(), 0, body, json.length, binary.size());
        return new Encoded(body, json.length);
    }

    /** A tensor in the binary-data extension's layout: little-endian values, BYTES as length + bytes. */
    static byte[] binary(OutputTensor t) {
        if (t.datatype() == Datatype.FP32) {
            float[] f = t.floats();
            ByteBuffer b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : f) {
                b.putFloat(v);
            }
            return b.array();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String s : t.strings()) {
            byte[] e = s.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(e.length).array());
            out.writeBytes(e);
        }
        return out.toByteArray();
    }

    private static void putParameters(ObjectNode o, Map<String, Object> parameters) {
        if (parameters == null || parameters.isEmpty()) {
            return;
        }
        ObjectNode p = o.putObject("parameters");
        for (Map.Entry<String, Object> e : parameters.entrySet()) {
            switch (e.getValue()) {
                case String s -> p.put(e.getKey(), s);
                case Boolean b -> p.put(e.getKey(), b);
                case Integer i -> p.put(e.getKey(), i);
                case Long l -> p.put(e.getKey(), l);
                case Double d -> p.put(e.getKey(), d);
                case Float f -> p.put(e.getKey(), f);
                default -> throw new IllegalArgumentException("parameter " + e.getKey() + " must be a string, number or boolean, got "
                        + e.getValue().getClass().getSimpleName());
            }
        }
    }
}
