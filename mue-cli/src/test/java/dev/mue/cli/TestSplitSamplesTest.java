package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed test-split samples are exactly what {@link TestSplitSamples} draws from the
 * installed dataset (pixels and listing; PNG bytes may differ between JDKs).
 */
class TestSplitSamplesTest {

    @Test
    void committedSamplesAreTheTestSplitGrids(@TempDir Path dir) throws IOException {
        TestSplitSamples.write(dir);
        Path samples = SampleImagesFixture.SAMPLES;
        assertEquals(Files.readAllLines(dir.resolve(TestSplitSamples.LISTING)),
                Files.readAllLines(samples.resolve(TestSplitSamples.LISTING)));
        for (int i = 0; i < TestSplitSamples.COUNT; i++) {
            BufferedImage want = ImageIO.read(dir.resolve(TestSplitSamples.fileName(i)).toFile());
            BufferedImage have = ImageIO.read(samples.resolve(TestSplitSamples.fileName(i)).toFile());
            assertEquals(64, have.getWidth());
            assertArrayEquals(want.getRaster().getPixels(0, 0, 64, 64, (int[]) null),
                    have.getRaster().getPixels(0, 0, 64, 64, (int[]) null), TestSplitSamples.fileName(i));
        }
    }
}
