package dev.mue.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The real dataset as scripts/install-datasets.sh installs it (./test runs that script first):
 * the official split sizes, balanced classes, and tasks built from it.
 */
class RealFashionMnistTest {

    @Test
    void officialSplitsAndBalancedClasses() {
        FashionMnist m = FashionMnist.load();
        assertEquals(55_000, m.train().size());
        assertEquals(5_000, m.validation().size());
        assertEquals(10_000, m.test().size());
        int[] perClass = new int[10];
        for (int i = 0; i < m.test().size(); i++) {
            perClass[m.test().label(i)]++;
        }
        for (int c = 0; c < 10; c++) {
            assertEquals(1000, perClass[c], "test images of class " + FashionMnist.CLASSES.get(c));
        }
        // Items are bright on a dark background: the corner pixels are background.
        assertEquals(0, m.test().pixel(0, 0, 0));
        int max = 0;
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                max = Math.max(max, m.test().pixel(0, y, x));
            }
        }
        assertTrue(max > 200, "the first test image has ink");
        GridTasks t = new GridTasks(m.test());
        assertEquals(300, t.captions(1, 300).stream().map(GridTasks.CaptionExample::caption).count());
    }
}
