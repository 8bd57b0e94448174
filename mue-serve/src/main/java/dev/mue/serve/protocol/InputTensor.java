package dev.mue.serve.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * One BYTES input of an inference request, its elements as they came: strings from the JSON
 * {@code data}, or raw byte strings from the binary-data extension.
 *
 * <p>{@link #bytes()} gives every element as bytes (JSON strings are base64, as the protocol's JSON
 * form carries binary data) and {@link #texts()} as text (binary elements must be UTF-8); each
 * refuses a bad element with a 400 naming the input and the element.
 */
public final class InputTensor {
    private final String name;
    private final String datatype;
    private final long[] shape;
    private final List<String> json;
    private final List<byte[]> binary;

    private InputTensor(String name, String datatype, long[] shape, List<String> json, List<byte[]> binary) {
        this.name = name;
        this.datatype = datatype;
        this.shape = shape.clone();
        this.json = json;
        this.binary = binary;
    }

    /** An input whose elements came as JSON strings. */
    public static InputTensor ofJson(String name, String datatype, long[] shape, List<String> elements) {
        return new InputTensor(name, datatype, shape, List.copyOf(elements), null);
    }

    /** An input whose elements came as binary data. */
    public static InputTensor ofBinary(String name, String datatype, long[] shape, List<byte[]> elements) {
        return new InputTensor(name, datatype, shape, null, List.copyOf(elements));
    }

    /** The input's name. */
    public String name() {
        return name;
    }

    /** The datatype the request declared (any string: checking it is the model's business). */
    public String datatype() {
        return datatype;
    }

    /** The declared shape. */
    public long[] shape() {
        return shape.clone();
    }

    /** Whether the elements came through the binary-data extension. */
    public boolean isBinary() {
        return binary != null;
    }

    /** The number of elements. */
    public int size() {
        return binary != null ? binary.size() : json.size();
    }

    /** Every element as bytes: binary ones as they are, JSON ones base64-decoded. */
    public List<byte[]> bytes() {
        if (binary != null) {
            return binary;
        }
        List<byte[]> out = new ArrayList<>(json.size());
        Base64.Decoder decoder = Base64.getDecoder();
        for (int i = 0; i < json.size(); i++) {
            try {
                out.add(decoder.decode(json.get(i)));
            } catch (IllegalArgumentException e) {
                throw new RequestException("input '" + name + "' element " + i + " is not valid base64: " + e.getMessage());
            }
        }
        return out;
    }

    /** Every element as text: JSON strings as they are, binary ones decoded as strict UTF-8. */
    public List<String> texts() {
        if (json != null) {
            return json;
        }
        List<String> out = new ArrayList<>(binary.size());
        for (int i = 0; i < binary.size(); i++) {
            try {
                out.add(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(binary.get(i))).toString());
            } catch (CharacterCodingException e) {
                throw new RequestException("input '" + name + "' element " + i + " is not valid UTF-8");
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return name + " " + datatype + " " + Arrays.toString(shape) + (binary != null ? " (binary)" : "");
    }
}
