package dev.mue.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.mue.api.InvalidInputException;
import dev.mue.api.model.ModelConfig.ImageResize;
import dev.mue.session.image.ImagePreprocessor;
import java.awt.image.BufferedImage;

/** Image decoding (every ImageIO reader on the class path) and OFA's preprocessing, both resizes. */
class ImageFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void decodesAndPreprocessesOrRefuses(byte[] data) {
        BufferedImage image;
        try {
            image = ImagePreprocessor.decode(data, "fuzz");
        } catch (InvalidInputException expected) {
            return;
        }
        for (ImageResize r : ImageResize.values()) {
            float[] px = ImagePreprocessor.preprocess(image, 16, r);
            for (float v : px) {
                if (!(v >= -1f && v <= 1f)) {
                    throw new AssertionError("pixel value " + v + " outside [-1, 1] with " + r);
                }
            }
        }
    }
}
