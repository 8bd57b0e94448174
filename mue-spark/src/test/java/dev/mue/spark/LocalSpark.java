package dev.mue.spark;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.spark.exec.ModelSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * What the module's tests share: one Spark application in {@code local[2]} mode (two task threads
 * in this JVM, everything on 127.0.0.1, no web UI), the sample images, and the default model.
 */
final class LocalSpark {
    /** The shipped Fashion-MNIST test-split samples. */
    static final List<String> SAMPLES = List.of("fmnist-test-0.png", "fmnist-test-1.png", "fmnist-test-2.png",
            "fmnist-test-3.png", "fmnist-test-4.png", "fmnist-test-5.png");

    private static SparkSession spark;

    private LocalSpark() {
    }

    /** The shared Spark session, started on first use; Spark's shutdown hook stops it. */
    static synchronized SparkSession spark() {
        if (spark == null) {
            spark = SparkSession.builder().appName("mue-spark tests").master("local[2]")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
                    .getOrCreate();
        }
        return spark;
    }

    /** The repository's samples folder (surefire passes it as {@code mue.samples}). */
    static Path samples() {
        return Path.of(System.getProperty("mue.samples", "../samples")).toAbsolutePath().normalize();
    }

    /** Copies the samples into {@code dir} and returns their paths there. */
    static List<Path> copySamples(Path dir) throws IOException {
        Files.createDirectories(dir);
        return SAMPLES.stream().map(s -> {
            try {
                return Files.copy(samples().resolve(s), dir.resolve(s), StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).toList();
    }

    /** The bundled default model. */
    static Model defaultModel() {
        return new ModelSource.Bundled().load();
    }

    /** A session on the default model with the bundle's policies: what {@code mue caption} runs. */
    static MueSession referenceSession() {
        return Mue.session().model(defaultModel()).open();
    }

    /** Writes the default model's files into {@code dir} as a bundle directory. */
    static Path writeDefaultModel(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String f : List.of(ModelBundle.CONFIG, ModelBundle.WEIGHTS, ModelBundle.VOCABULARY, ModelBundle.POLICY)) {
            try (InputStream in = LocalSpark.class.getClassLoader()
                    .getResourceAsStream(ModelSource.DEFAULT_MODEL_RESOURCE + "/" + f)) {
                Files.copy(in, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir;
    }
}
