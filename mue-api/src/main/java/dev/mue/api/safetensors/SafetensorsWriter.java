package dev.mue.api.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.mue.api.tensor.DType;
import dev.mue.api.tensor.FloatTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes float tensors as a safetensors file that {@link SafetensorsFile} and the reference
 * Python/Rust implementations read back.
 *
 * <p>The header is compact JSON padded with spaces to a multiple of 8 bytes, so the data area
 * starts 8-byte aligned; tensors follow in the order given, contiguous and little-endian. The file
 * is written to a temporary file in the same directory and then moved into place, so a crash or a
 * full disk never leaves a half-written file under the target name.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final int BUFFER_BYTES = 1 << 20;

    private SafetensorsWriter() {
    }

    /**
     * Writes {@code tensors} to {@code file}, each converted to {@code dtype}.
     *
     * @param metadata string pairs stored under {@code __metadata__}; empty or {@code null} for none
     * @throws IllegalArgumentException if two tensors share a name or one is named {@code __metadata__}
     * @throws IOException              if the file cannot be written; the target is then left untouched
     */
    public static void write(Path file, Collection<FloatTensor> tensors, DType dtype, Map<String, String> metadata)
            throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(dtype, "dtype");
        List<FloatTensor> list = List.copyOf(tensors);
        byte[] header = header(file, list, dtype, metadata == null ? Map.of() : metadata);

        dev.mue.api.files.AtomicFile.write(file, tmp -> {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                buf.putLong(header.length);
                flush(out, buf);
                writeFully(out, ByteBuffer.wrap(header));
                for (FloatTensor t : list) {
                    for (float v : t.data()) {
                        if (buf.remaining() < Float.BYTES) {
                            flush(out, buf);
                        }
                        switch (dtype) {
                            case F32 -> buf.putFloat(v);
                            case F16 -> buf.putShort(DType.floatToF16(v));
                            case BF16 -> buf.putShort(DType.floatToBf16(v));
                        }
                    }
                }
                flush(out, buf);
                out.force(true);
            }
        });
    }

    private static byte[] header(Path file, List<FloatTensor> tensors, DType dtype, Map<String, String> metadata) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            Map<String, String> meta = new LinkedHashMap<>();
            // Sorted by key: Map.of iterates in a per-JVM random order, and the same input must give the same bytes.
            Map<String, String> sorted = new TreeMap<>();
            metadata.forEach((k, v) -> sorted.put(Objects.requireNonNull(k, "metadata key"), v));
            sorted.forEach((k, v) -> meta.put(k,
                    Objects.requireNonNull(v, () -> "metadata value for key '" + k + "'")));
            header.put(SafetensorsFile.METADATA_KEY, meta);
        }
        Set<String> seen = new HashSet<>();
        long offset = 0;
        for (FloatTensor t : tensors) {
            if (t.name().equals(SafetensorsFile.METADATA_KEY)) {
                throw new IllegalArgumentException(file + ": a tensor cannot be named " + SafetensorsFile.METADATA_KEY);
            }
            if (!seen.add(t.name())) {
                throw new IllegalArgumentException(file + ": duplicate tensor name '" + t.name() + "'");
            }
            long end = offset + (long) t.size() * dtype.byteSize();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", dtype.safetensorsName());
            entry.put("shape", t.shape());
            entry.put("data_offsets", new long[] {offset, end});
            header.put(t.name(), entry);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise the safetensors header for " + file, e);
        }
        // Pad so that the data area starts on an 8-byte boundary, as the format recommends.
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void flush(FileChannel out, ByteBuffer buf) throws IOException {
        buf.flip();
        writeFully(out, buf);
        buf.clear();
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }
}
