package dev.mue.api.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.mue.api.ModelFormatException;
import dev.mue.api.tensor.DType;
import dev.mue.api.tensor.FloatTensor;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a safetensors file without trusting it: the whole header is validated when the file is
 * opened, and tensor data is memory-mapped only when a tensor is read.
 *
 * <p>A safetensors file is an unsigned 64-bit little-endian header length {@code n}, {@code n}
 * bytes of UTF-8 JSON, then the data area. The JSON maps each tensor name to its {@code dtype},
 * {@code shape} and {@code data_offsets} (relative to the data area), plus an optional
 * {@code __metadata__} map of strings. {@link #open} checks every one of those fields, the byte
 * count of every tensor and that no two tensors share bytes, so that a truncated or hostile file is
 * reported as a {@link ModelFormatException} naming the file, the tensor and the defect rather than
 * surfacing later as a wrong number or an out-of-memory error.
 *
 * <p>Instances are safe for concurrent reads. Close them (try-with-resources) to release the file.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest header accepted, in bytes; the reference implementation uses the same limit. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    /** Largest tensor rank accepted; OFA weights have rank at most 4. */
    public static final int MAX_RANK = 8;
    /** The header key that holds free-form string metadata instead of a tensor. */
    public static final String METADATA_KEY = "__metadata__";

    private static final int PREFIX_BYTES = 8;
    // Java arrays cannot quite reach Integer.MAX_VALUE elements on every VM.
    private static final long MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;
    // Tensors are mapped in pieces of at most 1 GiB because a MappedByteBuffer is int-indexed.
    private static final long MAX_MAP_BYTES = 1L << 30;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final List<String> names;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.names = List.copyOf(tensors.keySet());
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Opens and validates {@code file}.
     *
     * @throws ModelFormatException if the file is missing, unreadable or malformed in any way; the
     *                              message names the file, the tensor key and the problem
     */
    public static SafetensorsFile open(Path file) {
        if (!Files.exists(file)) {
            throw new ModelFormatException("safetensors file not found: " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException("safetensors file " + file + " is not a regular file");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException("safetensors file not found: " + file, e);
        } catch (IOException e) {
            throw new ModelFormatException("cannot open safetensors file " + file + ": " + e.getMessage(), e);
        }
        try {
            return parse(file, channel);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ModelFormatException("cannot read safetensors file " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static SafetensorsFile parse(Path file, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < PREFIX_BYTES) {
            throw new ModelFormatException(file + ": file is " + fileSize
                    + " bytes, shorter than the 8-byte header length prefix");
        }
        ByteBuffer prefix = ByteBuffer.allocate(PREFIX_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, prefix, 0);
        long headerLength = prefix.getLong(0);
        // The length is unsigned; a negative long is a value of 2^63 or more.
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new ModelFormatException(file + ": header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (headerLength == 0) {
            throw new ModelFormatException(file + ": header length is 0; a header must hold at least '{}'");
        }
        if (headerLength > fileSize - PREFIX_BYTES) {
            throw new ModelFormatException(file + ": header length " + headerLength
                    + " runs past the end of the file (only " + (fileSize - PREFIX_BYTES)
                    + " bytes follow the length prefix)");
        }
        MappedByteBuffer headerBytes = channel.map(FileChannel.MapMode.READ_ONLY, PREFIX_BYTES, headerLength);
        String headerText;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(headerBytes);
            headerText = chars.toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file + ": header is not valid UTF-8 (" + e.getMessage() + ")", e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(headerText);
        } catch (JsonProcessingException e) {
            String at = e.getLocation() == null ? "" : " at " + e.getLocation().offsetDescription();
            throw new ModelFormatException(file + ": header is not valid JSON: " + e.getOriginalMessage() + at, e);
        }
        if (root == null || !root.isObject()) {
            String kind = root == null || root.isMissingNode() ? "empty" : "a JSON " + root.getNodeType();
            throw new ModelFormatException(file + ": header is " + kind + ", not a JSON object");
        }
        long dataStart = PREFIX_BYTES + headerLength;
        long dataSize = fileSize - dataStart;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals(METADATA_KEY)) {
                parseMetadata(file, field.getValue(), metadata);
            } else {
                tensors.put(field.getKey(), parseTensor(file, field.getKey(), field.getValue(), dataSize));
            }
        }
        checkNoOverlap(file, tensors.values());
        return new SafetensorsFile(file, channel, dataStart, tensors, metadata);
    }

    private static void parseMetadata(Path file, JsonNode node, Map<String, String> into) {
        if (!node.isObject()) {
            throw new ModelFormatException(file + ": " + METADATA_KEY + " is a JSON " + node.getNodeType()
                    + ", not an object of strings");
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(file + ": " + METADATA_KEY + " value for key '" + e.getKey()
                        + "' is a JSON " + e.getValue().getNodeType() + ", not a string");
            }
            into.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo parseTensor(Path file, String name, JsonNode node, long dataSize) {
        String where = file + ": tensor '" + name + "'";
        if (name.isEmpty()) {
            throw new ModelFormatException(file + ": a tensor has an empty name");
        }
        if (!node.isObject()) {
            throw new ModelFormatException(where + " entry is a JSON " + node.getNodeType() + ", not an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null) {
            throw new ModelFormatException(where + " has no dtype");
        }
        if (!dtypeNode.isTextual()) {
            throw new ModelFormatException(where + " dtype " + dtypeNode + " is not a string");
        }
        DType dtype = DType.fromSafetensorsName(dtypeNode.textValue(), where);

        int[] shape = parseShape(where, node.get("shape"));
        long[] offsets = parseOffsets(where, node.get("data_offsets"));
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new ModelFormatException(where + " data_offsets [" + begin + ", " + end + "] begin " + begin
                    + " is greater than end " + end);
        }
        if (end > dataSize) {
            throw new ModelFormatException(where + " data_offsets [" + begin + ", " + end + "] end " + end
                    + " is out of range: the data area holds only " + dataSize + " bytes");
        }
        long needed;
        try {
            long elements = 1;
            for (int d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            needed = Math.multiplyExact(elements, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new ModelFormatException(where + " shape " + Arrays.toString(shape) + " " + dtype
                    + " has more bytes than a 64-bit count can hold", e);
        }
        if (needed != end - begin) {
            throw new ModelFormatException(where + " shape " + Arrays.toString(shape) + " " + dtype + " needs "
                    + needed + " bytes but data_offsets span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static int[] parseShape(String where, JsonNode node) {
        if (node == null) {
            throw new ModelFormatException(where + " has no shape");
        }
        if (!node.isArray()) {
            throw new ModelFormatException(where + " shape " + node + " is not an array");
        }
        if (node.size() > MAX_RANK) {
            throw new ModelFormatException(where + " shape has rank " + node.size() + ", more than the limit of "
                    + MAX_RANK);
        }
        int[] shape = new int[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber()) {
                throw new ModelFormatException(where + " shape " + node + " has a non-integer dimension " + d);
            }
            if (d.bigIntegerValue().signum() < 0) {
                throw new ModelFormatException(where + " shape " + node + " has a negative dimension " + d);
            }
            if (!d.canConvertToInt()) {
                throw new ModelFormatException(where + " shape " + node + " has dimension " + d
                        + ", more than the limit of " + Integer.MAX_VALUE);
            }
            shape[i] = d.intValue();
        }
        return shape;
    }

    private static long[] parseOffsets(String where, JsonNode node) {
        if (node == null) {
            throw new ModelFormatException(where + " has no data_offsets");
        }
        if (!node.isArray() || node.size() != 2) {
            throw new ModelFormatException(where + " data_offsets " + node + " is not a [begin, end] pair");
        }
        long[] offsets = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = node.get(i);
            if (!o.isIntegralNumber()) {
                throw new ModelFormatException(where + " data_offsets " + node + " has a non-integer offset " + o);
            }
            if (o.bigIntegerValue().signum() < 0) {
                throw new ModelFormatException(where + " data_offsets " + node + " has a negative offset " + o);
            }
            if (!o.canConvertToLong()) {
                throw new ModelFormatException(where + " data_offsets " + node + " offset " + o
                        + " is out of range");
            }
            offsets[i] = o.longValue();
        }
        return offsets;
    }

    private static void checkNoOverlap(Path file, Iterable<TensorInfo> infos) {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : infos) {
            // An empty tensor occupies no bytes, so it cannot collide with anything.
            if (t.byteLength() > 0) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo prev = sorted.get(i - 1);
            TensorInfo cur = sorted.get(i);
            // Sorted by begin, a range can only overlap its predecessor if ranges are pairwise
            // disjoint up to there, so comparing neighbours is enough.
            if (cur.begin() < prev.end()) {
                throw new ModelFormatException(file + ": tensor '" + cur.name() + "' data_offsets [" + cur.begin()
                        + ", " + cur.end() + "] overlap tensor '" + prev.name() + "' data_offsets [" + prev.begin()
                        + ", " + prev.end() + "]");
            }
        }
    }

    /** The file this reader was opened on. */
    public Path path() {
        return path;
    }

    /** Tensor names in header order, excluding {@code __metadata__}. */
    public List<String> names() {
        return names;
    }

    /** Whether the file holds a tensor called {@code name}. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The header entry of tensor {@code name}.
     *
     * @throws ModelFormatException if there is no such tensor
     */
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new ModelFormatException("no tensor '" + name + "' in " + path);
        }
        return info;
    }

    /** The {@code __metadata__} map, empty if the header has none; unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Reads tensor {@code name} and widens it to float32.
     *
     * @throws ModelFormatException  if there is no such tensor, it has no elements, it is too large
     *                               for a Java array, or the file shrank since it was opened
     * @throws IllegalStateException if this reader is closed
     */
    public FloatTensor readFloat(String name) {
        ensureOpen();
        TensorInfo info = info(name);
        long count = info.elementCount();
        if (count == 0) {
            throw new ModelFormatException(path + ": tensor '" + name + "' has shape "
                    + Arrays.toString(info.shape()) + " with no elements; mue cannot load empty tensors");
        }
        if (count > MAX_ARRAY_ELEMENTS) {
            throw new ModelFormatException(path + ": tensor '" + name + "' has " + count
                    + " elements, more than the limit of " + MAX_ARRAY_ELEMENTS + " for one array");
        }
        try {
            long needed = dataStart + info.end();
            long size = channel.size();
            if (size < needed) {
                // Reading a mapping past the end of a file crashes with SIGBUS, so check first.
                throw new ModelFormatException(path + ": tensor '" + name + "' ends at byte " + needed
                        + " but the file is now only " + size + " bytes; was it truncated while open?");
            }
            float[] out = new float[(int) count];
            int elementBytes = info.dtype().byteSize();
            long chunkElements = MAX_MAP_BYTES / elementBytes;
            long position = dataStart + info.begin();
            int done = 0;
            while (done < count) {
                int n = (int) Math.min(chunkElements, count - done);
                MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, position, (long) n * elementBytes);
                map.order(ByteOrder.LITTLE_ENDIAN);
                convert(info.dtype(), map, out, done, n);
                done += n;
                position += (long) n * elementBytes;
            }
            return new FloatTensor(name, info.shape(), out);
        } catch (ClosedChannelException e) {
            throw new IllegalStateException("safetensors file " + path + " was closed while reading '" + name + "'",
                    e);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read tensor '" + name + "' from " + path + ": " + e.getMessage(), e);
        }
    }

    private static void convert(DType dtype, ByteBuffer src, float[] dst, int offset, int n) {
        switch (dtype) {
            case F32 -> {
                FloatBuffer f = src.asFloatBuffer();
                f.get(dst, offset, n);
            }
            case F16 -> {
                ShortBuffer s = src.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    dst[offset + i] = DType.f16ToFloat(s.get(i));
                }
            }
            case BF16 -> {
                ShortBuffer s = src.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    dst[offset + i] = DType.bf16ToFloat(s.get(i));
                }
            }
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("safetensors file " + path + " is closed");
        }
    }

    /** Closes the file; reading afterwards throws {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // The channel is read-only, so a failing close cannot lose data; there is nothing to act on.
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos);
            if (n < 0) {
                throw new EOFException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + names.size() + " tensors]";
    }
}
