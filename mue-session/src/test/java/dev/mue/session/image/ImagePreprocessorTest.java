package dev.mue.session.image;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.InvalidInputException;
import dev.mue.api.model.ModelConfig;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagePreprocessorTest {

    @TempDir
    Path dir;

    /** The normalisation OFA applies after ToTensor: (v / 255 - 0.5) / 0.5, in float32. */
    private static float norm(double v) {
        return ((float) v / 255f - 0.5f) / 0.5f;
    }

    @Test
    void rgbPngAtItsOwnSizeIsNormalisedExactlyInChwOrder() throws IOException {
        int n = 16;
        BufferedImage img = new BufferedImage(n, n, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                img.setRGB(x, y, (red(x, y) << 16) | (green(x, y) << 8) | blue(x, y));
            }
        }
        Path file = write(img, "png", "grad.png");
        float[] out = ImagePreprocessor.load(file, n);
        assertEquals(3 * n * n, out.length);
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                int i = y * n + x;
                assertEquals(norm(red(x, y)), out[i], 0f, "R at " + x + "," + y);
                assertEquals(norm(green(x, y)), out[n * n + i], 0f, "G at " + x + "," + y);
                assertEquals(norm(blue(x, y)), out[2 * n * n + i], 0f, "B at " + x + "," + y);
            }
        }
        assertEquals(-1f, norm(0), 0f);
        assertEquals(1f, norm(255), 0f);
    }

    private static int red(int x, int y) {
        return (x * 16 + y) & 0xFF;
    }

    private static int green(int x, int y) {
        return (255 - y * 16 - x) & 0xFF;
    }

    private static int blue(int x, int y) {
        return (x * y * 3) & 0xFF;
    }

    @Test
    void grayscalePngGivesThreeIdenticalChannelsWithUnchangedValues() throws IOException {
        int n = 16;
        BufferedImage img = new BufferedImage(n, n, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                img.getRaster().setSample(x, y, 0, y * 16 + x);
            }
        }
        Path file = write(img, "png", "gray.png");
        float[] out = ImagePreprocessor.load(file, n);
        for (int i = 0; i < n * n; i++) {
            // PIL's convert("RGB") copies L unchanged; a gamma conversion would move mid-greys.
            assertEquals(norm(i), out[i], 0f, "pixel " + i);
            assertEquals(out[i], out[n * n + i], 0f);
            assertEquals(out[i], out[2 * n * n + i], 0f);
        }
    }

    @Test
    void alphaIsDroppedNotComposited() throws IOException {
        int n = 8;
        BufferedImage rgba = new BufferedImage(n, n, BufferedImage.TYPE_INT_ARGB);
        BufferedImage rgb = new BufferedImage(n, n, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                int color = (red(x, y) << 16) | (green(x, y) << 8) | blue(x, y);
                int alpha = (x + y * n) * 4; // 0 (fully transparent) up to 252
                rgba.setRGB(x, y, (alpha << 24) | color);
                rgb.setRGB(x, y, color);
            }
        }
        float[] fromRgba = ImagePreprocessor.load(write(rgba, "png", "rgba.png"), n);
        float[] fromRgb = ImagePreprocessor.load(write(rgb, "png", "rgb.png"), n);
        assertEquals(norm(red(0, 0)), fromRgba[0], 0f, "a fully transparent pixel keeps its colour");
        assertTrue(Arrays.equals(fromRgb, fromRgba), "alpha must not change any value");
    }

    @Test
    void palettePngIsLookedUp() throws IOException {
        byte[] r = {(byte) 255, 0, 0, 17};
        byte[] g = {0, (byte) 255, 0, 34};
        byte[] b = {0, 0, (byte) 255, 51};
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(2, 4, r, g, b));
        img.getRaster().setSample(0, 0, 0, 0);
        img.getRaster().setSample(1, 0, 0, 1);
        img.getRaster().setSample(0, 1, 0, 2);
        img.getRaster().setSample(1, 1, 0, 3);
        float[] out = ImagePreprocessor.load(write(img, "png", "palette.png"), 2);
        assertEquals(norm(255), out[0], 0f);
        assertEquals(norm(255), out[4 + 1], 0f);
        assertEquals(norm(255), out[8 + 2], 0f);
        assertEquals(norm(17), out[3], 0f);
        assertEquals(norm(34), out[4 + 3], 0f);
        assertEquals(norm(51), out[8 + 3], 0f);
    }

    @Test
    void jpegLoads() throws IOException {
        BufferedImage img = constant(32, 32, 200, 100, 50);
        float[] out = ImagePreprocessor.load(write(img, "jpg", "photo.jpg"), 32);
        assertEquals(3 * 32 * 32, out.length);
        // A flat colour survives JPEG within a few levels.
        float tolerance = 4 / 127.5f;
        for (int i = 0; i < 32 * 32; i++) {
            assertEquals(norm(200), out[i], tolerance);
            assertEquals(norm(100), out[1024 + i], tolerance);
            assertEquals(norm(50), out[2048 + i], tolerance);
        }
    }

    @Test
    void downscalingAConstantImageKeepsItConstant() throws IOException {
        float[] out = ImagePreprocessor.load(write(constant(64, 64, 30, 140, 250), "png", "flat.png"), 32);
        for (int i = 0; i < 32 * 32; i++) {
            assertEquals(norm(30), out[i], 1e-5f);
            assertEquals(norm(140), out[1024 + i], 1e-5f);
            assertEquals(norm(250), out[2048 + i], 1e-5f);
        }
    }

    @Test
    void downscalingACheckerboardAveragesItAway() throws IOException {
        // A 3x reduction puts every output centre on an input pixel centre, so a resampler without
        // PIL's antialiasing (kernel stretched by the scale) would copy single pixels: 0 or 255,
        // i.e. -1 or +1. With antialiasing every output is close to the mean, 127.5, i.e. 0 (measured: within 0.009).
        int n = 48;
        BufferedImage img = new BufferedImage(n, n, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                img.setRGB(x, y, (x + y) % 2 == 0 ? 0xFFFFFF : 0x000000);
            }
        }
        float[] out = ImagePreprocessor.load(write(img, "png", "checker.png"), 16);
        for (float v : out) {
            assertEquals(0f, v, 0.02f);
        }
    }

    @Test
    void bicubicUpscaleMatchesPilByHand() {
        // A 2x1 image resized to 4x4. Horizontally (2 -> 4) the scale is 0.5, so the kernel is not
        // stretched (support 2). Output x is centred at input coordinate (x + 0.5) * 0.5 and input
        // pixel i gets weight K(i - centre + 0.5) with PIL's cubic K (a = -0.5):
        //   K(t) = 1.5|t|^3 - 2.5|t|^2 + 1            for |t| < 1
        //   K(t) = -0.5|t|^3 + 2.5|t|^2 - 4|t| + 2    for 1 <= |t| < 2
        // x = 0: centre 0.25, taps i = 0, 1 at t = 0.25, 1.25:
        //   K(0.25) = 0.8671875 = 111/128, K(1.25) = -0.0703125 = -9/128, sum 102/128,
        //   normalised: 111/102 = 37/34 and -9/102 = -3/34, so out0 = (37 p0 - 3 p1) / 34.
        // x = 1: centre 0.75, taps at t = -0.25, 0.75: K = 111/128 and 29/128, sum 140/128,
        //   so out1 = (111 p0 + 29 p1) / 140. By symmetry out2 = (29 p0 + 111 p1) / 140 and
        //   out3 = (-3 p0 + 37 p1) / 34.
        // Vertically (1 -> 4) only input row 0 is in range, with weight 1 after normalisation.
        // Values outside 0..255 are clamped at the end.
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, (100 << 16) | (0 << 8) | 255);
        img.setRGB(1, 0, (200 << 16) | (255 << 8) | 0);
        float[] out = ImagePreprocessor.preprocess(img, 4);
        double[] red = {(37 * 100 - 3 * 200) / 34.0, (111 * 100 + 29 * 200) / 140.0,
            (29 * 100 + 111 * 200) / 140.0, (-3 * 100 + 37 * 200) / 34.0}; // 91.18 120.71 179.29 208.82
        double[] green = {0, 29 * 255 / 140.0, 111 * 255 / 140.0, 255}; // -22.5 and 277.5 clamped
        double[] blue = {255, 111 * 255 / 140.0, 29 * 255 / 140.0, 0};
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                int i = y * 4 + x;
                assertEquals(norm(red[x]), out[i], 1e-5f, "R " + x + "," + y);
                assertEquals(norm(green[x]), out[16 + i], 1e-5f, "G " + x + "," + y);
                assertEquals(norm(blue[x]), out[32 + i], 1e-5f, "B " + x + "," + y);
            }
        }
    }

    // ---- rejected inputs ----

    @Test
    void truncatedPngIsRejected() throws IOException {
        Path whole = write(noise(64, 64, 1), "png", "whole.png");
        byte[] bytes = Files.readAllBytes(whole);
        Path file = dir.resolve("half.png");
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        assertRejected(file, file.toString());
    }

    @Test
    void truncatedJpegIsRejected() throws IOException {
        Path whole = write(noise(64, 64, 2), "jpg", "whole.jpg");
        byte[] bytes = Files.readAllBytes(whole);
        Path file = dir.resolve("half.jpg");
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        assertRejected(file, file.toString());
    }

    @Test
    void emptyFileIsRejected() throws IOException {
        Path file = Files.write(dir.resolve("empty.png"), new byte[0]);
        assertRejected(file, "image file is empty (0 bytes): " + file);
    }

    @Test
    void missingFileIsRejected() {
        Path file = dir.resolve("absent.png");
        assertRejected(file, "image file not found: " + file);
    }

    @Test
    void textFileIsRejected() throws IOException {
        Path file = Files.writeString(dir.resolve("notes.png"), "this is not an image\n");
        assertRejected(file, "not a readable image (PNG, JPEG, GIF, BMP, TIFF or WebP expected): " + file);
    }

    @Test
    void pngClaimingTenBillionPixelsIsRejectedFromItsHeader() throws IOException {
        Path file = Files.write(dir.resolve("bomb.png"), pngHeaderOnly(100_000, 100_000));
        InvalidInputException e = assertRejected(file, "100000x100000");
        assertTrue(e.getMessage().contains(String.valueOf(ImagePreprocessor.MAX_PIXELS)), e.getMessage());
    }

    @Test
    void pngWithOneOverlongSideIsRejected() throws IOException {
        Path file = Files.write(dir.resolve("strip.png"), pngHeaderOnly(30_000, 10));
        assertRejected(file, "30000x10");
    }

    @Test
    void sizeOutOfRangeIsRejected() throws IOException {
        Path file = write(constant(4, 4, 1, 2, 3), "png", "tiny.png");
        assertThrows(InvalidInputException.class, () -> ImagePreprocessor.load(file, 0));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ImagePreprocessor.load(file, 4097));
        assertTrue(e.getMessage().contains("4097") && e.getMessage().contains("4096"), e.getMessage());
    }

    // ---- images held in memory (decode) and read without preprocessing ----

    @Test
    void decodedBytesPreprocessExactlyAsTheFileLoads() throws IOException {
        Path png = write(noise(40, 24, 3), "png", "noise.png");
        Path jpg = write(noise(40, 24, 4), "jpg", "noise.jpg");
        for (Path file : new Path[] {png, jpg}) {
            float[] fromFile = ImagePreprocessor.load(file, 32);
            BufferedImage decoded = ImagePreprocessor.decode(Files.readAllBytes(file), "mem:" + file.getFileName());
            assertArrayEquals(fromFile, ImagePreprocessor.preprocess(decoded, 32), 0f, file.toString());
            assertArrayEquals(fromFile, ImagePreprocessor.preprocess(ImagePreprocessor.read(file), 32), 0f,
                    file.toString());
        }
    }

    @Test
    void badBytesAreRejectedNamingTheirSource() throws IOException {
        byte[] whole = Files.readAllBytes(write(noise(64, 64, 5), "png", "whole.png"));
        assertDecodeRejected(Arrays.copyOf(whole, whole.length / 2), "half.png", "half.png is damaged or truncated");
        assertDecodeRejected(new byte[0], "empty.png", "image empty.png is empty (0 bytes)");
        assertDecodeRejected("not an image\n".getBytes(US_ASCII), "notes.png",
                "not a readable image (PNG, JPEG, GIF, BMP, TIFF or WebP expected): notes.png");
        assertDecodeRejected(pngHeaderOnly(100_000, 100_000), "bomb.png", "image bomb.png is 100000x100000");
    }

    private static void assertDecodeRejected(byte[] bytes, String name, String expectedFragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ImagePreprocessor.decode(bytes, name));
        assertTrue(e.getMessage().contains(expectedFragment), "expected '" + expectedFragment + "' in: " + e.getMessage());
    }

    // ---- helpers ----

    private Path write(BufferedImage img, String format, String name) throws IOException {
        Path file = dir.resolve(name);
        assertTrue(ImageIO.write(img, format, file.toFile()), "no ImageIO writer for " + format);
        return file;
    }

    private static BufferedImage constant(int w, int h, int r, int g, int b) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    private static BufferedImage noise(int w, int h, long seed) {
        Random random = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, random.nextInt(0x1000000));
            }
        }
        return img;
    }

    private static InvalidInputException assertRejected(Path file, String expectedFragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ImagePreprocessor.load(file, 32));
        assertTrue(e.getMessage().contains(expectedFragment), "expected '" + expectedFragment + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), "message must name the file: " + e.getMessage());
        return e;
    }

    /**
     * A syntactically valid PNG whose IHDR declares {@code width x height} 8-bit RGB pixels, with a
     * one-row IDAT and IEND: decoding it fully would need width * height * 3 bytes.
     */
    private static byte[] pngHeaderOnly(int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13);
        ihdr.putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        Deflater deflater = new Deflater();
        deflater.setInput(new byte[1 + 3 * 16]);
        deflater.finish();
        byte[] z = new byte[256];
        int zn = deflater.deflate(z);
        deflater.end();
        chunk(out, "IDAT", Arrays.copyOf(z, zn));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] typeBytes = type.getBytes(US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(typeBytes);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void pilResizeIsPillowsFixedPointBitForBit() {
        // Expected planes are Pillow 9.4's Image.resize(size, BICUBIC) of mode "L" images with
        // these pixels (upscale, downscale, both passes, width-only and height-only changes).
        assertArrayEquals(new int[] {0, 17, 128, 238, 255}, ImagePreprocessor.resizePil(new int[] {0, 255}, 2, 1, 5, 1));
        assertArrayEquals(new int[] {90, 154}, ImagePreprocessor.resizePil(new int[] {10, 200, 30, 255}, 4, 1, 2, 1));
        assertArrayEquals(new int[] {0, 0, 14, 39, 64, 85, 94, 46, 53, 81, 112, 136, 155, 163, 145, 154, 175, 200, 225,
            246, 255, 223, 210, 136, 77, 111, 167, 187, 255, 236, 99, 0, 25, 104, 131},
                ImagePreprocessor.resizePil(new int[] {0, 50, 100, 150, 200, 250, 255, 0, 128}, 3, 3, 7, 5));
        assertArrayEquals(new int[] {102, 126, 102, 115, 127, 115, 140, 128, 140, 153, 129, 153},
                ImagePreprocessor.resizePil(new int[] {0, 255, 0, 255, 0, 255, 0, 255, 0, 255}, 5, 2, 3, 4));
    }

    @Test
    void pilAndFloatResizeDifferAndPilRoundsEveryPass() {
        BufferedImage img = new BufferedImage(3, 3, BufferedImage.TYPE_BYTE_GRAY);
        int[] v = {0, 50, 100, 150, 200, 250, 255, 0, 128};
        img.getRaster().setPixels(0, 0, 3, 3, v);
        float[] pil = ImagePreprocessor.preprocess(img, 7, ModelConfig.ImageResize.PIL_BICUBIC);
        float[] mue = ImagePreprocessor.preprocess(img, 7, ModelConfig.ImageResize.FLOAT_BICUBIC);
        assertArrayEquals(mue, ImagePreprocessor.preprocess(img, 7), "mue's own resize stays the default");
        int[] expected = ImagePreprocessor.resizePil(v, 3, 3, 7, 7);
        double maxDiff = 0;
        for (int i = 0; i < 49; i++) {
            assertEquals((expected[i] / 255f - 0.5f) / 0.5f, pil[i], 0f, "8-bit value / 255, normalised, at " + i);
            assertEquals(pil[i], pil[49 + i], 0f, "gray replicated to G");
            maxDiff = Math.max(maxDiff, Math.abs(pil[i] - mue[i]));
        }
        assertTrue(maxDiff > 0, "the float resize rounds once; Pillow's twice");
    }
}
