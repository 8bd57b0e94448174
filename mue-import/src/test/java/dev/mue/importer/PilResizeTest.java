package dev.mue.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mue.session.image.ImagePreprocessor;
import dev.mue.api.model.ModelConfig.ImageResize;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The OFA-exact resize ({@link ImageResize#PIL_BICUBIC}) against Pillow's own output on real
 * images: the official Fashion-MNIST test-split grids in {@code samples/} (8-bit gray, 64 px) and
 * the drawn RGB and gray samples (112 px), upscaled to OFA's 480 and 384 px and downscaled, as
 * {@code scripts/testdata/pil_resize.py} writes them with Debian's python3-pil
 * ({@code scripts/install-test-deps.sh}, run by {@code ./test}). Every value must be identical;
 * mue's own float resize is shown to differ, so the check has teeth. PNG only: JPEG decoders
 * (ImageIO's and libjpeg's) may differ before any resize.
 */
class PilResizeTest {
    private static final List<String> IMAGES = List.of("fmnist-test-0.png", "fmnist-test-3.png", "grid.png",
            "gray.png");

    @ParameterizedTest
    @ValueSource(ints = {480, 384, 100, 37})
    void pilBicubicEqualsPillow(int size) throws Exception {
        Path root = TestPython.projectRoot("scripts/testdata/pil_resize.py");
        Path out = root.resolve("mue-import/target/pil-resize");
        String python = TestPython.find("PIL");
        assumeTrue(python != null, "no python3 with PIL found (tried $MUE_PYTHON, /usr/bin/python3, python3);"
                + " run scripts/install-test-deps.sh");
        List<String> cmd = new ArrayList<>(List.of(python, root.resolve("scripts/testdata/pil_resize.py").toString(),
                out.toString(), Integer.toString(size)));
        for (String im : IMAGES) {
            cmd.add(root.resolve("samples").resolve(im).toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, "pil_resize.py failed: " + log);
        double worstFloat = 0;
        for (String im : IMAGES) {
            byte[] rgb = Files.readAllBytes(out.resolve(im + "." + size + ".rgb"));
            assertEquals(3 * size * size, rgb.length, im);
            BufferedImage img = ImageIO.read(root.resolve("samples").resolve(im).toFile());
            float[] pil = ImagePreprocessor.preprocess(img, size, ImageResize.PIL_BICUBIC);
            float[] mue = ImagePreprocessor.preprocess(img, size, ImageResize.FLOAT_BICUBIC);
            int plane = size * size;
            for (int i = 0; i < plane; i++) {
                for (int c = 0; c < 3; c++) {
                    int expected = rgb[3 * i + c] & 0xFF;
                    // ToTensor then Normalize(0.5, 0.5), in float32 as torchvision computes them.
                    float want = (expected / 255f - 0.5f) / 0.5f;
                    float got = pil[c * plane + i];
                    if (want != got) {
                        throw new AssertionError(String.format(Locale.ROOT, "%s at %d px: pixel %d channel %d is %d in "
                                + "Pillow, %.1f in mue", im, size, i, c, expected, (got * 0.5f + 0.5f) * 255f));
                    }
                    worstFloat = Math.max(worstFloat, Math.abs(mue[c * plane + i] - want) * 0.5 * 255);
                }
            }
        }
        System.out.printf(Locale.ROOT, "pil resize at %d px: %d images equal to Pillow's; mue's float resize up to "
                + "%.2f/255 apart%n", size, IMAGES.size(), worstFloat);
        assertTrue(worstFloat > 0.5, "the float resize differs somewhere, so equality above is not trivial");
    }
}
