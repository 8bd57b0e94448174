package dev.mue.cli;

import dev.mue.train.data.FashionMnist;
import dev.mue.train.data.GridTasks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The shipped samples from the official Fashion-MNIST test split: {@value #COUNT} grids of the
 * caption stream seeded {@value #SEED}, written as {@code samples/fmnist-test-<i>.png} (64 x 64,
 * grayscale, the model's input size) with {@code samples/fmnist-test.txt} listing each file's
 * reference caption and the test-split image indices of its four items.
 *
 * <p>Regenerate by running {@link #main} from the {@code mue-cli} directory with the module's test
 * classpath and the argument {@code ../samples}; {@link TestSplitSamplesTest} checks that the
 * committed files are what this writes.
 */
final class TestSplitSamples {
    static final long SEED = 20261128;
    static final int COUNT = 6;
    static final String LISTING = "fmnist-test.txt";

    private TestSplitSamples() {
    }

    static String fileName(int i) {
        return "fmnist-test-" + i + ".png";
    }

    /** Writes the images and the listing into {@code dir}. */
    static void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        GridTasks tasks = new GridTasks(FashionMnist.load().test());
        List<String> lines = new ArrayList<>();
        lines.add("# Grids of official Fashion-MNIST test-split images (mue eval's test split; never seen in training).");
        lines.add("# file | reference caption | test-split indices of the four items (reading order)");
        var captions = tasks.captions(SEED, COUNT);
        for (int i = 0; i < COUNT; i++) {
            GridTasks.Grid g = captions.get(i).grid();
            if (!ImageIO.write(tasks.render(g), "png", dir.resolve(fileName(i)).toFile())) {
                throw new IOException("no PNG writer");
            }
            lines.add(fileName(i) + " | " + captions.get(i).caption() + " | "
                    + java.util.Arrays.toString(g.items()));
        }
        Files.write(dir.resolve(LISTING), lines);
    }

    /** {@code java ... TestSplitSamples [dir]}: writes the samples (default {@code samples}). */
    public static void main(String[] args) throws IOException {
        write(Path.of(args.length > 0 ? args[0] : "samples"));
    }
}
