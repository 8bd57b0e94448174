package dev.mue.session.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.InvalidInputException;
import dev.mue.api.model.ModelConfig.ImageResize;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Formats beyond the JDK's own readers, checked against what Pillow reads from the same files
 * (written once by {@code scripts/testdata/cmyk_webp.py}): a CMYK JPEG as OFA's pipeline reads it,
 * WebP lossless and lossy; and an image too large for the heap refused in one line.
 */
class ImageFormatsTest {

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = ImageFormatsTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    /** Largest absolute difference and mean absolute difference of the image's RGB from interleaved bytes. */
    private static double[] diff(BufferedImage im, byte[] rgb) {
        assertEquals(rgb.length, 3 * im.getWidth() * im.getHeight());
        int max = 0;
        long sum = 0;
        for (int y = 0; y < im.getHeight(); y++) {
            for (int x = 0; x < im.getWidth(); x++) {
                int p = im.getRGB(x, y);
                int i = 3 * (y * im.getWidth() + x);
                for (int c = 0; c < 3; c++) {
                    int d = Math.abs(((p >> (16 - 8 * c)) & 0xFF) - (rgb[i + c] & 0xFF));
                    max = Math.max(max, d);
                    sum += d;
                }
            }
        }
        return new double[] {max, sum / (double) rgb.length};
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s / v.length;
    }

    @Test
    void aCmykJpegDecodesAsPillowReadsIt() throws IOException {
        BufferedImage cmyk = ImagePreprocessor.decode(resource("photo-cmyk.jpg"), "photo-cmyk.jpg");
        double[] d = diff(cmyk, resource("photo-cmyk.rgb"));
        // libjpeg versions differ by a level or two in the IDCT; a colour mistake is tens of levels
        assertTrue(d[0] <= 3 && d[1] < 0.5, "max " + d[0] + ", mean " + d[1] + " levels from Pillow's reading");
        // and so it preprocesses to what the same picture as RGB gives (the issue: -0.39 against -0.61)
        BufferedImage rgb = ImagePreprocessor.decode(resource("photo-rgb.png"), "photo-rgb.png");
        float[] a = ImagePreprocessor.preprocess(cmyk, 32, ImageResize.PIL_BICUBIC);
        float[] b = ImagePreprocessor.preprocess(rgb, 32, ImageResize.PIL_BICUBIC);
        assertEquals(mean(b), mean(a), 0.02);
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        assertTrue(worst < 0.15, "largest difference to the RGB picture " + worst + " on [-1, 1]");
    }

    @Test
    void webpDecodesLosslessExactlyAndLossyAsPillowDoes() throws IOException {
        BufferedImage png = ImagePreprocessor.decode(resource("photo-rgb.png"), "photo-rgb.png");
        BufferedImage lossless = ImagePreprocessor.decode(resource("photo-lossless.webp"), "photo-lossless.webp");
        for (int y = 0; y < png.getHeight(); y++) {
            for (int x = 0; x < png.getWidth(); x++) {
                assertEquals(png.getRGB(x, y) & 0xFFFFFF, lossless.getRGB(x, y) & 0xFFFFFF, "pixel " + x + "," + y);
            }
        }
        BufferedImage lossy = ImagePreprocessor.decode(resource("photo-lossy.webp"), "photo-lossy.webp");
        double[] d = diff(lossy, resource("photo-lossy.rgb"));
        // TwelveMonkeys upsamples chroma more simply than libwebp's "fancy" filter: the two agree within
        // a few levels on average and differ most at sharp colour edges (measured: mean 4.1, max 93)
        assertTrue(d[1] < 6, "mean " + d[1] + " (max " + d[0] + ") levels from Pillow's (libwebp's) decode");
    }

    /**
     * Found by fuzzing: a 178-byte lossless WebP that declares 2853 x 2049 pixels and ends after a
     * few bytes. TwelveMonkeys' reader decoded the rest from nothing, one EOFException per byte,
     * for minutes; it is refused as truncated now.
     */
    @Test
    void aTruncatedLosslessWebpIsRefusedNotDecodedFromNothing() throws IOException {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ImagePreprocessor.decode(resource("truncated-lossless.webp"), "truncated-lossless.webp"));
        assertEquals("image truncated-lossless.webp is truncated: its decoder kept reading past the end of the data",
                e.getMessage());
    }

    @Test
    void anUnreadableFormatNamesTheFormatsRead() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ImagePreprocessor.decode("%PDF-1.7 not an image".getBytes(), "doc.pdf"));
        assertEquals("not a readable image (PNG, JPEG, GIF, BMP, TIFF or WebP expected): doc.pdf", e.getMessage());
    }

    /**
     * The case: a 20000 x 2500 16-bit RGBA PNG (389 KB, under the pixel limit) in a 512 MB
     * heap ended in an OutOfMemoryError. In a child JVM with that heap it is one line naming the
     * image and the memory, exit code 0 from the child's catch.
     */
    @Test
    void anImageLargerThanTheFreeHeapIsRefusedInOneLine(@TempDir Path tmp) throws Exception {
        Path png = tmp.resolve("huge.png");
        writeBlank16BitRgba(png, 20_000, 2_500);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path out = tmp.resolve("out.txt");
        Process p = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                HugeImage.class.getName(), png.toString()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        List<String> lines = Files.readAllLines(out);
        assertEquals(0, p.exitValue(), String.join("\n", lines));
        assertEquals(1, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).startsWith("refused: image " + png + " needs about "), lines.get(0));
        assertTrue(lines.get(0).contains("MiB heap are free"), lines.get(0));
    }

    /** The child JVM: loads the image and prints the refusal (or "loaded"). */
    static final class HugeImage {
        public static void main(String[] args) {
            try {
                ImagePreprocessor.load(Path.of(args[0]), 64);
                System.out.println("loaded");
            } catch (InvalidInputException e) {
                System.out.println("refused: " + e.getMessage());
            }
        }
    }

    /** A PNG of {@code w x h} transparent black pixels, 16 bits per sample, RGBA: tiny on disk. */
    private static void writeBlank16BitRgba(Path file, int w, int h) throws IOException {
        java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(raw,
                new java.util.zip.Deflater(9))) {
            byte[] row = new byte[1 + w * 8];
            for (int y = 0; y < h; y++) {
                z.write(row);
            }
        }
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 16).put((byte) 6)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(png, "IHDR", ihdr.array());
        chunk(png, "IDAT", raw.toByteArray());
        chunk(png, "IEND", new byte[0]);
        Files.write(file, png.toByteArray());
    }

    private static void chunk(java.io.ByteArrayOutputStream out, String type, byte[] data) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        crc.update(t);
        crc.update(data);
        out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
