package dev.mue.train.data;

import dev.mue.api.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Xiao et al. 2017) as the Debian package {@code dataset-fashion-mnist} installs it:
 * gzipped IDX files with the official 60,000 / 10,000 split. {@code scripts/install-datasets.sh}
 * installs it; {@link #load()} looks in {@code MUE_FASHION_MNIST} or the package's folder.
 *
 * <p>The last {@value #VALIDATION} training images form a fixed validation split, so the official
 * test split is never used for model selection.
 */
public final class FashionMnist {
    /** Where the Debian package puts the files. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** Images held out of the official training split for validation. */
    public static final int VALIDATION = 5000;
    /** Image side in pixels. */
    public static final int SIDE = 28;
    /** Class names in label order, as captions and hypotheses spell them. */
    public static final List<String> CLASSES = List.of("t-shirt", "trouser", "pullover", "dress", "coat", "sandal",
            "shirt", "sneaker", "bag", "boot");

    private final Split train;
    private final Split test;

    /**
     * Images and labels of one split.
     *
     * @param name   {@code train}, {@code validation} or {@code test}
     * @param pixels {@code count x 28 x 28} unsigned bytes, row-major
     * @param labels one class per image
     */
    public record Split(String name, byte[] pixels, byte[] labels) {
        /** Number of images. */
        public int size() {
            return labels.length;
        }

        /** Class of image {@code i}. */
        public int label(int i) {
            return labels[i];
        }

        /** Intensity of a pixel: 0 is the (black) background, 255 the brightest ink. */
        public int pixel(int i, int y, int x) {
            return pixels[(i * SIDE + y) * SIDE + x] & 0xff;
        }

        /** Images {@code [from, to)} as a new split. */
        public Split slice(String newName, int from, int to) {
            byte[] p = java.util.Arrays.copyOfRange(pixels, from * SIDE * SIDE, to * SIDE * SIDE);
            return new Split(newName, p, java.util.Arrays.copyOfRange(labels, from, to));
        }
    }

    private FashionMnist(Split train, Split test) {
        this.train = train;
        this.test = test;
    }

    /** Loads from {@code MUE_FASHION_MNIST} if set, else {@link #DEBIAN_DIR}. */
    public static FashionMnist load() {
        String env = System.getenv("MUE_FASHION_MNIST");
        return load(env != null && !env.isBlank() ? Path.of(env) : DEBIAN_DIR);
    }

    /** Loads the four files from {@code dir}. */
    public static FashionMnist load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException("Fashion-MNIST not found in " + dir
                    + ": run scripts/install-datasets.sh (Debian package dataset-fashion-mnist) or set MUE_FASHION_MNIST");
        }
        return new FashionMnist(split(dir, "train", "train"), split(dir, "test", "t10k"));
    }

    private static Split split(Path dir, String name, String prefix) {
        IdxFile images = IdxFile.read(dir.resolve(prefix + "-images-idx3-ubyte.gz"));
        IdxFile labels = IdxFile.read(dir.resolve(prefix + "-labels-idx1-ubyte.gz"));
        if (images.dims().length != 3 || images.dims()[1] != SIDE || images.dims()[2] != SIDE) {
            throw new ModelFormatException(dir + ": " + prefix + " images are not N x 28 x 28");
        }
        if (labels.dims().length != 1 || labels.dims()[0] != images.dims()[0]) {
            throw new ModelFormatException(dir + ": " + prefix + " has " + images.dims()[0] + " images but "
                    + labels.dims()[0] + " labels");
        }
        for (byte b : labels.data()) {
            if (b < 0 || b >= CLASSES.size()) {
                throw new ModelFormatException(dir + ": " + prefix + " label " + b + " outside 0..9");
            }
        }
        return new Split(name, images.data(), labels.data());
    }

    /** The official training split minus the validation images. */
    public Split train() {
        return train.slice("train", 0, train.size() - VALIDATION);
    }

    /** The last {@value #VALIDATION} images of the official training split. */
    public Split validation() {
        return train.slice("validation", train.size() - VALIDATION, train.size());
    }

    /** The official test split. */
    public Split test() {
        return test;
    }
}
