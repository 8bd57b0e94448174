package dev.mue.api.safetensors;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mue.api.ModelFormatException;
import dev.mue.api.tensor.DType;
import dev.mue.api.tensor.FloatTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {

    @TempDir
    Path dir;

    private static final FloatTensor MATRIX = new FloatTensor("enc.fc1.weight", new int[] {2, 3},
            new float[] {1f, -2.5f, 0.125f, 3e-5f, 1e6f, -0f});
    private static final FloatTensor VECTOR = new FloatTensor("enc.fc1.bias", new int[] {4},
            new float[] {0.5f, -0.75f, 1024f, 7f});
    private static final FloatTensor SCALAR = new FloatTensor("scale", new int[] {}, new float[] {42f});

    // ---- round trips ----

    @Test
    void f32RoundTripIsExactAndKeepsOrderShapesAndOffsets() throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, List.of(MATRIX, VECTOR, SCALAR), DType.F32, Map.of());
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(List.of("enc.fc1.weight", "enc.fc1.bias", "scale"), st.names());
            assertEquals(file, st.path());
            assertTrue(st.contains("scale"));
            assertFalse(st.contains("missing"));
            assertEquals(new TensorInfo("enc.fc1.weight", DType.F32, new int[] {2, 3}, 0, 24),
                    st.info("enc.fc1.weight"));
            assertEquals(new TensorInfo("enc.fc1.bias", DType.F32, new int[] {4}, 24, 40), st.info("enc.fc1.bias"));
            assertEquals(new TensorInfo("scale", DType.F32, new int[] {}, 40, 44), st.info("scale"));
            assertEquals(6, st.info("enc.fc1.weight").elementCount());
            assertEquals(1, st.info("scale").elementCount());
            assertEquals(MATRIX, st.readFloat("enc.fc1.weight"));
            assertEquals(VECTOR, st.readFloat("enc.fc1.bias"));
            assertEquals(SCALAR, st.readFloat("scale"));
            assertTrue(st.metadata().isEmpty());
        }
    }

    @Test
    void writerFollowsTheSpecByteForByte() throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafetensorsWriter.write(file, List.of(VECTOR), DType.F32, Map.of());
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, n % 8, "header must be padded to a multiple of 8 bytes");
        String header = new String(Files.readAllBytes(file), 8, (int) n, UTF_8);
        assertTrue(header.startsWith("{\"enc.fc1.bias\":{"), header);
        assertTrue(header.contains("\"dtype\":\"F32\""), header);
        assertTrue(header.contains("\"shape\":[4]"), header);
        assertTrue(header.contains("\"data_offsets\":[0,16]"), header);
        assertEquals(header.strip().length(), header.stripTrailing().length());
        assertTrue(header.stripTrailing().endsWith("}"), header);
        assertEquals(8 + n + 16, Files.size(file));
        // Little-endian float32 data right after the header.
        assertEquals(0.5f, b.getFloat((int) (8 + n)));
        assertEquals(7f, b.getFloat((int) (8 + n + 12)));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file may be left behind");
        }
    }

    @Test
    void f16RoundTripIsExactForRepresentableValuesAndCloseOtherwise() throws IOException {
        FloatTensor exact = new FloatTensor("exact", new int[] {6},
                new float[] {1f, -2f, 0.5f, 65504f, 0x1p-24f, 0.333251953125f});
        FloatTensor approx = new FloatTensor("approx", new int[] {2, 2}, new float[] {0.1f, -3.14159f, 1234.567f, 1e-3f});
        Path file = dir.resolve("h.safetensors");
        SafetensorsWriter.write(file, List.of(exact, approx), DType.F16, Map.of());
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int dataStart = (int) (8 + b.getLong(0));
        assertEquals((short) 0x3C00, b.getShort(dataStart), "1.0 as little-endian binary16");
        assertEquals(dataStart + 2 * 10, bytes.length, "two bytes per element, nothing else");
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(DType.F16, st.info("exact").dtype());
            assertArrayEquals(exact.data(), st.readFloat("exact").data(), 0f);
            float[] got = st.readFloat("approx").data();
            for (int i = 0; i < got.length; i++) {
                float want = approx.data()[i];
                // binary16 keeps 11 significant bits: relative error at most 2^-11.
                assertEquals(want, got[i], Math.abs(want) * 0x1p-11f, "element " + i);
                assertTrue(got[i] != want, "value " + want + " is not representable and must have been rounded");
            }
        }
    }

    @Test
    void bf16RoundTripIsExactForRepresentableValuesAndCloseOtherwise() throws IOException {
        FloatTensor exact = new FloatTensor("exact", new int[] {4}, new float[] {1f, -2f, 0x1p100f, 1.5f});
        FloatTensor approx = new FloatTensor("approx", new int[] {3}, new float[] {0.1f, -3.14159f, 1234.567f});
        Path file = dir.resolve("b.safetensors");
        SafetensorsWriter.write(file, List.of(exact, approx), DType.BF16, Map.of());
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int dataStart = (int) (8 + b.getLong(0));
        assertEquals((short) 0x3F80, b.getShort(dataStart), "1.0 as little-endian bfloat16");
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(DType.BF16, st.info("approx").dtype());
            assertArrayEquals(exact.data(), st.readFloat("exact").data(), 0f);
            float[] got = st.readFloat("approx").data();
            for (int i = 0; i < got.length; i++) {
                float want = approx.data()[i];
                // bfloat16 keeps 8 significant bits: relative error at most 2^-8.
                assertEquals(want, got[i], Math.abs(want) * 0x1p-8f, "element " + i);
                assertTrue(got[i] != want, "value " + want + " is not representable and must have been rounded");
            }
        }
    }

    @Test
    void metadataRoundTrips() throws IOException {
        Path file = dir.resolve("m.safetensors");
        Map<String, String> meta = Map.of("format", "pt", "mue.config", "ofa-tiny", "note", "ünïcödé");
        SafetensorsWriter.write(file, List.of(VECTOR), DType.F32, meta);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(meta, st.metadata());
            assertEquals(List.of("enc.fc1.bias"), st.names(), "__metadata__ is not a tensor");
            assertThrows(UnsupportedOperationException.class, () -> st.metadata().put("x", "y"));
        }
    }

    @Test
    void writerRejectsDuplicateNamesAndLeavesNoFile() {
        Path file = dir.resolve("dup.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(file, List.of(VECTOR, VECTOR), DType.F32, Map.of()));
        assertTrue(e.getMessage().contains("enc.fc1.bias"), e.getMessage());
        assertFalse(Files.exists(file));
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path file = dir.resolve("x.safetensors");
        SafetensorsWriter.write(file, List.of(VECTOR), DType.F32, Map.of());
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> st.readFloat("nope"));
            assertEquals("no tensor 'nope' in " + file, e.getMessage());
        }
    }

    @Test
    void emptyTensorIsValidButCannotBeReadAsFloat() throws IOException {
        Path file = raw("empty.safetensors",
                "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
                        + "\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(9f));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(0, st.info("e").elementCount());
            assertArrayEquals(new float[] {9f}, st.readFloat("v").data());
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> st.readFloat("e"));
            assertTrue(e.getMessage().contains("'e'") && e.getMessage().contains("no elements"), e.getMessage());
        }
    }

    @Test
    void readerAcceptsAHandWrittenSpecFile() throws IOException {
        // Written as Python's safetensors would: metadata first, unpadded header, F16 data.
        ByteBuffer data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort((short) 0x3C00).putShort((short) 0xC100); // 1.0, -2.5
        Path file = raw("py.safetensors", "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", data.array());
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertArrayEquals(new float[] {1f, -2.5f}, st.readFloat("w").data());
        }
    }

    // ---- corrupt files: each one a real file on disk ----

    @Test
    void rejectsFileShorterThanEightBytes() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3, 4, 5});
        assertFormatError(file, "5 bytes, shorter than the 8-byte header length prefix");
    }

    @Test
    void rejectsHeaderLengthPastEndOfFile() throws IOException {
        Path file = withLength("past.safetensors", 1000, new byte[50]);
        assertFormatError(file, "header length 1000 runs past the end of the file (only 50 bytes");
    }

    @Test
    void rejectsTwoGigabyteHeaderClaimInSmallFile() throws IOException {
        Path file = withLength("huge.safetensors", 2_000_000_000L, "{}".getBytes(UTF_8));
        assertFormatError(file, "header length 2000000000 exceeds the limit of " + SafetensorsFile.MAX_HEADER_BYTES);
    }

    @Test
    void rejectsHeaderLengthWithTopBitSet() throws IOException {
        Path file = withLength("neg.safetensors", -1L, new byte[16]);
        assertFormatError(file, "header length 18446744073709551615 exceeds the limit");
    }

    @Test
    void rejectsZeroHeaderLength() throws IOException {
        Path file = withLength("zero.safetensors", 0, new byte[16]);
        assertFormatError(file, "header length is 0");
    }

    @Test
    void rejectsInvalidJson() throws IOException {
        Path file = raw("json.safetensors", "{\"a\": {\"dtype\": ", new byte[0]);
        assertFormatError(file, "header is not valid JSON");
    }

    @Test
    void rejectsTrailingGarbageAfterJson() throws IOException {
        Path file = raw("trail.safetensors", "{} {}", new byte[0]);
        assertFormatError(file, "header is not valid JSON");
    }

    @Test
    void rejectsHeaderThatIsNotUtf8() throws IOException {
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        Path file = dir.resolve("utf8.safetensors");
        ByteBuffer b = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Files.write(file, b.array());
        assertFormatError(file, "header is not valid UTF-8");
    }

    @Test
    void rejectsJsonThatIsNotAnObject() throws IOException {
        Path file = raw("array.safetensors", "[1, 2, 3]", new byte[0]);
        assertFormatError(file, "header is a JSON ARRAY, not a JSON object");
    }

    @Test
    void rejectsDuplicateTensorKeys() throws IOException {
        Path file = raw("dupkey.safetensors", "{\"a\":" + entry("F32", "[1]", "[0,4]") + ",\"a\":"
                + entry("F32", "[1]", "[4,8]") + "}", new byte[8]);
        assertFormatError(file, "Duplicate field 'a'");
    }

    @Test
    void rejectsUnknownDtype() throws IOException {
        Path file = raw("dtype.safetensors", "{\"a.weight\":" + entry("F8_E9", "[4]", "[0,4]") + "}", new byte[4]);
        assertFormatError(file, "tensor 'a.weight': unknown or unsupported dtype 'F8_E9'");
    }

    @Test
    void rejectsMissingDataOffsets() throws IOException {
        Path file = raw("nooff.safetensors", "{\"a.weight\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]);
        assertFormatError(file, "tensor 'a.weight' has no data_offsets");
    }

    @Test
    void rejectsMissingShape() throws IOException {
        Path file = raw("noshape.safetensors", "{\"a.weight\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}",
                new byte[4]);
        assertFormatError(file, "tensor 'a.weight' has no shape");
    }

    @Test
    void rejectsNegativeShapeDimension() throws IOException {
        Path file = raw("negdim.safetensors", "{\"a.weight\":" + entry("F32", "[2,-3]", "[0,24]") + "}", new byte[24]);
        assertFormatError(file, "tensor 'a.weight' shape [2,-3] has a negative dimension -3");
    }

    @Test
    void rejectsRankAboveLimit() throws IOException {
        Path file = raw("rank.safetensors", "{\"a\":" + entry("F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") + "}",
                new byte[4]);
        assertFormatError(file, "tensor 'a' shape has rank 9, more than the limit of 8");
    }

    @Test
    void rejectsOffsetsOutOfRange() throws IOException {
        Path file = raw("range.safetensors", "{\"a.weight\":" + entry("F32", "[100]", "[0,400]") + "}", new byte[16]);
        assertFormatError(file, "tensor 'a.weight' data_offsets [0, 400] end 400 is out of range: the data area holds only 16 bytes");
    }

    @Test
    void rejectsBeginGreaterThanEnd() throws IOException {
        Path file = raw("order.safetensors", "{\"a.weight\":" + entry("F32", "[1]", "[8,4]") + "}", new byte[16]);
        assertFormatError(file, "tensor 'a.weight' data_offsets [8, 4] begin 8 is greater than end 4");
    }

    @Test
    void rejectsNegativeOffset() throws IOException {
        Path file = raw("negoff.safetensors", "{\"a\":" + entry("F32", "[1]", "[-4,0]") + "}", new byte[16]);
        assertFormatError(file, "tensor 'a' data_offsets [-4,0] has a negative offset -4");
    }

    @Test
    void rejectsOverlappingOffsets() throws IOException {
        Path file = raw("overlap.safetensors", "{\"a\":" + entry("F32", "[4]", "[0,16]") + ",\"b\":"
                + entry("F32", "[4]", "[8,24]") + "}", new byte[24]);
        assertFormatError(file, "tensor 'b' data_offsets [8, 24] overlap tensor 'a' data_offsets [0, 16]");
    }

    @Test
    void rejectsShapeByteCountMismatch() throws IOException {
        Path file = raw("model.safetensors", "{\"a.weight\":" + entry("F32", "[2,3]", "[0,20]") + "}", new byte[24]);
        assertFormatError(file, "tensor 'a.weight' shape [2, 3] F32 needs 24 bytes but data_offsets span 20");
    }

    @Test
    void rejectsShapeWhoseByteCountOverflows() throws IOException {
        String big = "[2147483647,2147483647,2147483647]";
        Path file = raw("overflow.safetensors", "{\"a\":" + entry("F32", big, "[0,4]") + "}", new byte[4]);
        assertFormatError(file, "tensor 'a' shape [2147483647, 2147483647, 2147483647] F32 has more bytes than");
    }

    @Test
    void rejectsMetadataWithNonStringValue() throws IOException {
        Path file = raw("meta.safetensors", "{\"__metadata__\":{\"epoch\":3}}", new byte[0]);
        assertFormatError(file, "__metadata__ value for key 'epoch' is a JSON NUMBER, not a string");
    }

    @Test
    void rejectsTrailingDataAfterTheLastTensorAsTheReferenceReaderDoes() throws IOException {
        byte[] data = new byte[16 + 4];
        System.arraycopy(floats(1, 2, 3, 4), 0, data, 0, 16);
        Path file = raw("junk.safetensors", "{\"a\":" + entry("F32", "[4]", "[0,16]") + "}", data);
        assertFormatError(file, "4 bytes of trailing data after the last tensor 'a' (data area 20 bytes, tensors end at 16)");
    }

    @Test
    void rejectsAGapBetweenTensors() throws IOException {
        Path file = raw("gap.safetensors",
                "{\"a\":" + entry("F32", "[1]", "[0,4]") + ",\"b\":" + entry("F32", "[1]", "[8,12]") + "}", new byte[12]);
        assertFormatError(file, "tensor 'b' data_offsets [8, 12] leave 4 bytes unused after tensor 'a'");
    }

    @Test
    void rejectsDataWhenTheHeaderListsNoTensor() throws IOException {
        Path file = raw("none.safetensors", "{}", new byte[3]);
        assertFormatError(file, "3 bytes of trailing data after the header (it lists no tensor)");
    }

    @Test
    void readsTheSameFromMemoryAsFromAFile() throws IOException {
        Path file = dir.resolve("m.safetensors");
        SafetensorsWriter.write(file, List.of(MATRIX, VECTOR, SCALAR), DType.BF16, Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(file);
        try (SafetensorsFile disk = SafetensorsFile.open(file);
                SafetensorsFile mem = SafetensorsFile.read(ByteBuffer.wrap(bytes), "memory:m")) {
            assertEquals(disk.names(), mem.names());
            assertEquals(disk.metadata(), mem.metadata());
            assertEquals(disk.dataBytes(), mem.dataBytes());
            for (String n : disk.names()) {
                assertEquals(disk.readFloat(n), mem.readFloat(n));
            }
            assertEquals("memory:m", mem.source());
            assertEquals(null, mem.path());
        }
        bytes[bytes.length - 1] = 0;
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 2);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> SafetensorsFile.read(ByteBuffer.wrap(longer), "memory:m"));
        assertTrue(e.getMessage().startsWith("memory:m: 2 bytes of trailing data"), e.getMessage());
    }

    @Test
    void rejectsMissingFile() {
        Path file = dir.resolve("absent.safetensors");
        assertFormatError(file, "safetensors file not found: " + file);
    }

    // ---- resources ----

    @Test
    void closeReleasesTheFileAndLaterReadsFail() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs Linux /proc to count descriptors");
        Path file = dir.resolve("c.safetensors");
        SafetensorsWriter.write(file, List.of(VECTOR), DType.F32, Map.of());
        SafetensorsFile escaped;
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(1, descriptorsOpenOn(file), "the reader holds the file while open");
            assertEquals(VECTOR, st.readFloat("enc.fc1.bias"));
            escaped = st;
        }
        assertEquals(0, descriptorsOpenOn(file), "close() must release the file descriptor");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> escaped.readFloat("enc.fc1.bias"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        escaped.close(); // idempotent
    }

    @Test
    void failedOpenDoesNotLeakTheFile() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs Linux /proc to count descriptors");
        Path file = raw("leak.safetensors", "{\"a\":" + entry("F32", "[2]", "[0,4]") + "}", new byte[8]);
        assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(file));
        assertEquals(0, descriptorsOpenOn(file));
    }

    // ---- helpers ----

    private static String entry(String dtype, String shape, String offsets) {
        return "{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    private static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    /** Writes a file with a correct length prefix, the given header text and data area. */
    private Path raw(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path file = dir.resolve(name);
        Files.write(file, b.array());
        return file;
    }

    /** Writes a file whose length prefix is {@code length}, followed by {@code rest}. */
    private Path withLength(String name, long length, byte[] rest) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(length).put(rest);
        Path file = dir.resolve(name);
        Files.write(file, b.array());
        return file;
    }

    private static void assertFormatError(Path file, String expectedFragment) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().contains(file.toString()), "message must name the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expectedFragment),
                "expected '" + expectedFragment + "' in: " + e.getMessage());
    }

    private static long descriptorsOpenOn(Path file) throws IOException {
        Path real = file.toRealPath();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (IOException e) {
                    return false; // the descriptor closed while we were listing
                }
            }).count();
        }
    }
}
