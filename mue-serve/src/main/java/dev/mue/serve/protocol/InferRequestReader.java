package dev.mue.serve.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads an OIP v2 inference request body: the JSON form, or a JSON header followed by binary tensor
 * data (Triton's binary-data extension: the header's length in {@code Inference-Header-Content-Length},
 * each binary input's byte count in its {@code binary_data_size} parameter, a BYTES element as a
 * 4-byte little-endian length and its bytes).
 *
 * <p>Everything that is wrong is a {@link RequestException} (400) naming the field, input or
 * element: malformed JSON, a missing or mistyped field, a negative or inconsistent shape, element
 * counts that disagree with the shape, binary sizes that disagree with the body. Inputs must be
 * BYTES, since every input of mue's models is.
 */
public final class InferRequestReader {
    /** The header that gives the JSON part's length when binary data follows it. */
    public static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    private static final String BINARY_SIZE = "binary_data_size";
    private static final int MAX_NESTING = 8;

    private final ObjectMapper mapper;

    /** A reader that accepts JSON strings up to {@code maxStringLength} characters. */
    public InferRequestReader(int maxStringLength) {
        JsonMapper m = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
        m.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength(Math.max(1000, maxStringLength)).maxNestingDepth(64).build());
        this.mapper = m;
    }

    /**
     * Parses a body.
     *
     * @param body         the whole body
     * @param headerLength the {@code Inference-Header-Content-Length} header's value, or null when absent
     */
    public InferRequest read(byte[] body, String headerLength) {
        int jsonLength = body.length;
        if (headerLength != null) {
            try {
                jsonLength = Integer.parseInt(headerLength.strip());
            } catch (NumberFormatException e) {
                throw new RequestException(HEADER_LENGTH + " must be a byte count, got '" + headerLength + "'");
            }
            if (jsonLength < 0 || jsonLength > body.length) {
                throw new RequestException(HEADER_LENGTH + " " + jsonLength + " is outside the body of " + body.length
                        + " bytes");
            }
        }
        if (jsonLength == 0) {
            throw new RequestException("empty request body: an inference request is a JSON object");
        }
        JsonNode root;
        try {
            root = mapper.readTree(body, 0, jsonLength);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw new RequestException("malformed JSON" + where + ": " + oneLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new RequestException("malformed JSON: " + oneLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new RequestException("the request must be a JSON object, got " + kind(root));
        }
        ByteBuffer binary = ByteBuffer.wrap(body, jsonLength, body.length - jsonLength).slice();
        String id = optionalString(root, "id", "request");
        Map<String, Object> parameters = parameters(root.get("parameters"), "request");
        List<InputTensor> inputs = inputs(root.get("inputs"), binary, headerLength != null);
        if (binary.hasRemaining()) {
            throw new RequestException("the binary data is " + (body.length - jsonLength) + " bytes but the inputs'"
                    + " binary_data_size add up to " + binary.position());
        }
        return new InferRequest(id, parameters, inputs, outputs(root.get("outputs")));
    }

    private List<InputTensor> inputs(JsonNode node, ByteBuffer binary, boolean hasHeader) {
        if (node == null || !node.isArray() || node.isEmpty()) {
            throw new RequestException("'inputs' must be a non-empty array, got " + kind(node));
        }
        List<InputTensor> out = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int k = 0; k < node.size(); k++) {
            JsonNode in = node.get(k);
            if (!in.isObject()) {
                throw new RequestException("inputs[" + k + "] must be an object, got " + kind(in));
            }
            String name = requiredString(in, "name", "inputs[" + k + "]");
            if (names.contains(name)) {
                throw new RequestException("input '" + name + "' is given twice");
            }
            names.add(name);
            String what = "input '" + name + "'";
            String datatype = requiredString(in, "datatype", what);
            if (!datatype.equals(Datatype.BYTES.name())) {
                throw new RequestException(what + " has datatype " + datatype + "; mue's model inputs are BYTES");
            }
            long[] shape = shape(in.get("shape"), what);
            long count = elements(shape, what);
            Map<String, Object> params = parameters(in.get("parameters"), what);
            Object size = params.get(BINARY_SIZE);
            JsonNode data = in.get("data");
            if (size != null) {
                if (!hasHeader) {
                    throw new RequestException(what + " has binary_data_size but the request has no " + HEADER_LENGTH
                            + " header");
                }
                if (data != null) {
                    throw new RequestException(what + " has both 'data' and binary_data_size");
                }
                if (!(size instanceof Long n) || n < 0) {
                    throw new RequestException(what + " binary_data_size must be a non-negative integer, got " + size);
                }
                if (n > binary.remaining()) {
                    throw new RequestException(what + " binary_data_size " + n + " runs past the body's binary data ("
                            + binary.remaining() + " bytes left)");
                }
                ByteBuffer part = binary.slice(binary.position(), (int) (long) n).order(ByteOrder.LITTLE_ENDIAN);
                binary.position(binary.position() + (int) (long) n);
                out.add(InputTensor.ofBinary(name, datatype, shape, binaryElements(part, count, what)));
            } else {
                if (data == null) {
                    throw new RequestException(what + " has no 'data' (nor binary_data_size)");
                }
                List<String> flat = new ArrayList<>();
                flatten(data, flat, what, 0);
                if (flat.size() != count) {
                    throw new RequestException(what + " has shape " + shapeText(shape) + " (" + count + " elements) but "
                            + flat.size() + " data elements");
                }
                out.add(InputTensor.ofJson(name, datatype, shape, flat));
            }
        }
        return out;
    }

    private static List<byte[]> binaryElements(ByteBuffer part, long count, String what) {
        List<byte[]> out = new ArrayList<>();
        while (part.hasRemaining()) {
            if (part.remaining() < 4) {
                throw new RequestException(what + " binary data ends inside an element's 4-byte length");
            }
            long len = Integer.toUnsignedLong(part.getInt());
            if (len > part.remaining()) {
                throw new RequestException(what + " binary element " + out.size() + " claims " + len + " bytes but "
                        + part.remaining() + " are left");
            }
            byte[] e = new byte[(int) len];
            part.get(e);
            out.add(e);
        }
        if (out.size() != count) {
            throw new RequestException(what + " has " + count + " elements by its shape but " + out.size()
                    + " in its binary data");
        }
        return out;
    }

    private static void flatten(JsonNode data, List<String> out, String what, int depth) {
        if (data.isTextual()) {
            out.add(data.textValue());
        } else if (data.isArray() && depth < MAX_NESTING) {
            for (JsonNode e : data) {
                flatten(e, out, what, depth + 1);
            }
        } else if (data.isArray()) {
            throw new RequestException(what + " data is nested deeper than " + MAX_NESTING + " levels");
        } else {
            throw new RequestException(what + " element " + out.size() + " is " + kind(data)
                    + "; BYTES elements are strings (base64 for images)");
        }
    }

    private static long[] shape(JsonNode node, String what) {
        if (node == null || !node.isArray()) {
            throw new RequestException(what + " 'shape' must be an array of integers, got " + kind(node));
        }
        long[] shape = new long[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw new RequestException(what + " shape " + node + " must hold non-negative integers");
            }
            shape[i] = d.longValue();
        }
        return shape;
    }

    private static long elements(long[] shape, String what) {
        long n = 1;
        try {
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
        } catch (ArithmeticException e) {
            throw new RequestException(what + " shape " + shapeText(shape) + " overflows");
        }
        return n;
    }

    private static List<RequestedOutput> outputs(JsonNode node) {
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new RequestException("'outputs' must be an array, got " + kind(node));
        }
        List<RequestedOutput> out = new ArrayList<>();
        for (int k = 0; k < node.size(); k++) {
            JsonNode o = node.get(k);
            if (!o.isObject()) {
                throw new RequestException("outputs[" + k + "] must be an object, got " + kind(o));
            }
            String name = requiredString(o, "name", "outputs[" + k + "]");
            Object binary = parameters(o.get("parameters"), "output '" + name + "'").get("binary_data");
            if (binary != null && !(binary instanceof Boolean)) {
                throw new RequestException("output '" + name + "' binary_data must be true or false, got " + binary);
            }
            out.add(new RequestedOutput(name, (Boolean) binary));
        }
        return out;
    }

    private static Map<String, Object> parameters(JsonNode node, String what) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw new RequestException(what + " 'parameters' must be an object, got " + kind(node));
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            JsonNode v = e.getValue();
            Object value;
            if (v.isTextual()) {
                value = v.textValue();
            } else if (v.isBoolean()) {
                value = v.booleanValue();
            } else if (v.isIntegralNumber() && v.canConvertToLong()) {
                value = v.longValue();
            } else if (v.isNumber()) {
                value = v.doubleValue();
            } else {
                throw new RequestException(what + " parameter '" + e.getKey() + "' must be a string, number or boolean, got "
                        + kind(v));
            }
            out.put(e.getKey(), value);
        }
        return out;
    }

    private static String requiredString(JsonNode node, String field, String what) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new RequestException(what + " '" + field + "' must be a string, got " + kind(v));
        }
        return v.textValue();
    }

    private static String optionalString(JsonNode node, String field, String what) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new RequestException(what + " '" + field + "' must be a string, got " + kind(v));
        }
        return v.textValue();
    }

    static String shapeText(long[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            b.append(i == 0 ? "" : ",").append(shape[i]);
        }
        return b.append(']').toString();
    }

    private static String kind(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "nothing";
        }
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
