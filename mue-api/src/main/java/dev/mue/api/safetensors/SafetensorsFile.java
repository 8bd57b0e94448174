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
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.FloatBuffer;
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
 * opened, and tensor data is memory-mapped only when a tensor is read. {@link #read(ByteBuffer, String)}
 * reads the same format from memory (a bundle shipped as class-path resources) with the same checks.
 *
 * <p>A safetensors file is an unsigned 64-bit little-endian header length {@code n}, {@code n}
 * bytes of UTF-8 JSON, then the data area. The JSON maps each tensor name to its {@code dtype},
 * {@code shape} and {@code data_offsets} (relative to the data area), plus an optional
 * {@code __metadata__} map of strings. {@link #open} checks every one of those fields, the byte
 * count of every tensor, that no two tensors share bytes and, as the reference implementation does,
 * that the tensors tile the data area exactly (no gap, no trailing bytes), so that a truncated or
 * hostile file is reported as a {@link ModelFormatException} naming the file, the tensor and the
 * defect rather than surfacing later as a wrong number or an out-of-memory error.
 *
 * <p>The format carries no checksum: bytes of another dtype relabelled in the header, or flipped
 * bits inside a tensor, load as wrong numbers. A bundle's optional {@code model.safetensors.sha256}
 * sidecar (see {@code ModelBundle}) is what catches those.
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
    private final String source;
    private final Data data;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final List<String> names;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    /** Where the bytes come from: a file mapped piece by piece, or a buffer in memory. */
    private interface Data {
        /** Bytes available now (a file may shrink while open). */
        long size() throws IOException;

        /** {@code length} bytes from {@code position}, little-endian, independent of other views. */
        ByteBuffer view(long position, int length) throws IOException;

        void close();
    }

    private record FileData(FileChannel channel) implements Data {
        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public ByteBuffer view(long position, int length) throws IOException {
            return channel.map(FileChannel.MapMode.READ_ONLY, position, length).order(ByteOrder.LITTLE_ENDIAN);
        }

        @Override
        public void close() {
            closeQuietly(channel);
        }
    }

    private record MemoryData(ByteBuffer buffer) implements Data {
        @Override
        public long size() {
            return buffer.capacity();
        }

        @Override
        public ByteBuffer view(long position, int length) {
            return buffer.slice((int) position, length).order(ByteOrder.LITTLE_ENDIAN);
        }

        @Override
        public void close() {
            // nothing held but the buffer, which the garbage collector frees
        }
    }

    private SafetensorsFile(Path path, String source, Data data, long dataStart, Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.source = source;
        this.data = data;
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
        Data data = new FileData(channel);
        try {
            return parse(file, file.toString(), data);
        } catch (IOException e) {
            data.close();
            throw new ModelFormatException("cannot read safetensors file " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            data.close();
            throw e;
        }
    }

    /**
     * Validates safetensors bytes held in memory, e.g. a model shipped as a class-path resource,
     * with every check of {@link #open}; nothing is written to disk.
     *
     * @param bytes  the whole file, from position 0 to the buffer's capacity; not copied, so it
     *               must not change while this reader is used
     * @param source names the bytes in messages (a resource path, {@code memory}, ...)
     * @throws ModelFormatException if the bytes are malformed in any way
     */
    public static SafetensorsFile read(ByteBuffer bytes, String source) {
        Data data = new MemoryData(bytes.duplicate().clear().asReadOnlyBuffer());
        try {
            return parse(null, source, data);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read safetensors " + source + ": " + e.getMessage(), e);
        }
    }

    private static SafetensorsFile parse(Path path, String file, Data data) throws IOException {
        long fileSize = data.size();
        if (fileSize < PREFIX_BYTES) {
            throw new ModelFormatException(file + ": file is " + fileSize
                    + " bytes, shorter than the 8-byte header length prefix");
        }
        long headerLength = data.view(0, PREFIX_BYTES).getLong(0);
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
        ByteBuffer headerBytes = data.view(PREFIX_BYTES, (int) headerLength);
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
        checkTiled(file, tensors.values(), dataSize);
        return new SafetensorsFile(path, file, data, dataStart, tensors, metadata);
    }

    private static void parseMetadata(String file, JsonNode node, Map<String, String> into) {
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

    private static TensorInfo parseTensor(String file, String name, JsonNode node, long dataSize) {
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

    private static void checkNoOverlap(String file, Iterable<TensorInfo> infos) {
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

    /**
     * The reference implementation's rule: sorted by offset, the tensors start at 0, each begins where
     * the previous one ends, and the last one ends at the end of the data. A gap or trailing bytes
     * are data that no tensor accounts for: a damaged file, or one whose header was edited.
     */
    private static void checkTiled(String file, Iterable<TensorInfo> infos, long dataSize) {
        List<TensorInfo> sorted = new ArrayList<>();
        infos.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        String previous = null;
        for (TensorInfo t : sorted) {
            if (t.begin() != expected) {
                throw new ModelFormatException(file + ": tensor '" + t.name() + "' data_offsets [" + t.begin() + ", "
                        + t.end() + "] leave " + (t.begin() - expected) + " bytes unused after "
                        + (previous == null ? "the start of the data area" : "tensor '" + previous + "'")
                        + "; tensors must be contiguous");
            }
            expected = t.end();
            previous = t.name();
        }
        if (expected != dataSize) {
            throw new ModelFormatException(file + ": " + (dataSize - expected) + " bytes of trailing data after "
                    + (previous == null ? "the header (it lists no tensor)" : "the last tensor '" + previous + "'")
                    + " (data area " + dataSize + " bytes, tensors end at " + expected + ")");
        }
    }

    /** The file this reader was opened on, or null when it reads bytes in memory ({@link #read(ByteBuffer, String)}). */
    public Path path() {
        return path;
    }

    /** What this reader reads, for messages: the file's path or the name given to {@link #read(ByteBuffer, String)}. */
    public String source() {
        return source;
    }

    /** Bytes of tensor data (the file less its length prefix and header). */
    public long dataBytes() {
        return tensors.values().stream().mapToLong(TensorInfo::end).max().orElse(0);
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
            throw new ModelFormatException("no tensor '" + name + "' in " + source);
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
            throw new ModelFormatException(source + ": tensor '" + name + "' has shape "
                    + Arrays.toString(info.shape()) + " with no elements; mue cannot load empty tensors");
        }
        if (count > MAX_ARRAY_ELEMENTS) {
            throw new ModelFormatException(source + ": tensor '" + name + "' has " + count
                    + " elements, more than the limit of " + MAX_ARRAY_ELEMENTS + " for one array");
        }
        try {
            long needed = dataStart + info.end();
            long size = data.size();
            if (size < needed) {
                // Reading a mapping past the end of a file crashes with SIGBUS, so check first.
                throw new ModelFormatException(source + ": tensor '" + name + "' ends at byte " + needed
                        + " but the file is now only " + size + " bytes; was it truncated while open?");
            }
            float[] out = new float[(int) count];
            int elementBytes = info.dtype().byteSize();
            long chunkElements = MAX_MAP_BYTES / elementBytes;
            long position = dataStart + info.begin();
            int done = 0;
            while (done < count) {
                int n = (int) Math.min(chunkElements, count - done);
                convert(info.dtype(), data.view(position, n * elementBytes), out, done, n);
                done += n;
                position += (long) n * elementBytes;
            }
            return new FloatTensor(name, info.shape(), out);
        } catch (ClosedChannelException e) {
            throw new IllegalStateException("safetensors file " + source + " was closed while reading '" + name + "'",
                    e);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read tensor '" + name + "' from " + source + ": " + e.getMessage(), e);
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
            throw new IllegalStateException("safetensors file " + source + " is closed");
        }
    }

    /** Closes the file; reading afterwards throws {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        closed = true;
        data.close();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // The channel is read-only, so a failing close cannot lose data; there is nothing to act on.
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + source + ", " + names.size() + " tensors]";
    }
}
