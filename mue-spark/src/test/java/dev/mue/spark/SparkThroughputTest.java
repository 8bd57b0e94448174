package dev.mue.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mue.api.model.Model;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.session.image.ImagePreprocessor;
import dev.mue.spark.exec.ExecutorSessions;
import dev.mue.train.data.FashionMnist;
import dev.mue.train.data.GridTasks;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The README's throughput table: rows per second captioning 1,000 test-split grids through Spark in
 * {@code local[1]} and {@code local[2]}, at full depth and with the bundle's calibrated policy (MuE),
 * next to the single-JVM throughput of {@code MueSession.captionImages} in batches of the same size.
 *
 * <p>A measurement, not a test: it runs only with {@code -Dmue.spark.throughput=true}, e.g.
 * {@code ./mvnw -pl mue-spark -am verify -Dtest=SparkThroughputTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dmue.spark.throughput=true}, and needs the Fashion-MNIST files (scripts/install-datasets.sh).
 * It writes the table to {@code target/spark-throughput.md}.
 */
@EnabledIfSystemProperty(named = "mue.spark.throughput", matches = "true")
class SparkThroughputTest {
    /** The seed of mue's test-split caption stream (the shipped samples are its first six grids). */
    private static final long SEED = 20261128;
    private static final int IMAGES = Integer.getInteger("mue.spark.throughput.images", 1000);
    private static final int BATCH = Integer.getInteger("mue.spark.throughput.batch", MueSpark.DEFAULT_BATCH_SIZE);
    /** Timed passes per configuration; the fastest counts (the machine is shared). */
    private static final int PASSES = Integer.getInteger("mue.spark.throughput.passes", 2);

    private record Policy(String label, ExitPolicy explicit) {
    }

    @Test
    void measure() throws IOException {
        Path grids = writeGrids(Path.of("target", "fmnist-test-grids"));
        List<Policy> policies = List.of(new Policy("full depth", ExitPolicy.full()),
                new Policy("MuE (bundle policy.json)", null));
        List<String> table = new ArrayList<>();
        table.add("| run | policy | rows/s | s per pass | expected saving (layers / whole-pass FLOPs) |");
        table.add("|---|---|---|---|---|");

        Model model = LocalSpark.defaultModel();
        for (Policy p : policies) {
            Mue.SessionBuilder b = Mue.session().model(model);
            if (p.explicit() != null) {
                b.policy(p.explicit());
            }
            try (MueSession s = b.open()) {
                s.captionImages(decode(grids, 0, 2 * BATCH));
                double best = Double.MAX_VALUE;
                double layers = 0;
                double flops = 0;
                for (int pass = 0; pass < PASSES; pass++) {
                    long t0 = System.nanoTime();
                    layers = 0;
                    flops = 0;
                    // Reading and decoding the files is timed too, as it is in the Spark runs.
                    for (int from = 0; from < IMAGES; from += BATCH) {
                        for (var r : s.captionImages(decode(grids, from, Math.min(IMAGES, from + BATCH)))) {
                            layers += r.trace().layerReduction();
                            flops += r.trace().wholePassFlopReduction();
                        }
                    }
                    best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                }
                table.add(row("single JVM, captionImages in batches of " + BATCH + " (" + s.backendId() + " backend, "
                        + Runtime.getRuntime().availableProcessors() + " threads)", p.label(), best, layers, flops));
            }
        }

        for (int cores : new int[] {1, 2}) {
            SparkSession spark = SparkSession.builder().appName("mue-spark throughput").master("local[" + cores + "]")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false").getOrCreate();
            try {
                Dataset<Row> all = spark.read().format("binaryFile").load(grids.toString()).repartition(cores).cache();
                assertEquals(IMAGES, all.count());
                for (Policy p : policies) {
                    MueSpark.Builder job = MueSpark.caption().batchSize(BATCH);
                    if (p.explicit() != null) {
                        job.policy(p.explicit());
                    }
                    // Warm-up: every executor thread opens (or finds) the session and the JIT compiles the kernels.
                    job.transform(all.limit(4 * BATCH).repartition(cores)).write().format("noop").mode("overwrite").save();
                    double best = Double.MAX_VALUE;
                    for (int pass = 0; pass < PASSES; pass++) {
                        long t0 = System.nanoTime();
                        job.transform(all).write().format("noop").mode("overwrite").save();
                        best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                    }
                    Row sums = job.transform(all).agg(org.apache.spark.sql.functions.count("*"),
                            org.apache.spark.sql.functions.count("error"),
                            org.apache.spark.sql.functions.sum("expected_layer_reduction"),
                            org.apache.spark.sql.functions.sum("expected_flop_reduction")).first();
                    assertEquals(IMAGES, sums.getLong(0));
                    assertEquals(0, sums.getLong(1), "no error rows");
                    table.add(row("Spark local[" + cores + "], " + cores + " partition" + (cores > 1 ? "s" : "")
                            + ", batches of " + BATCH, p.label(), best, sums.getDouble(2), sums.getDouble(3)));
                }
            } finally {
                spark.stop();
                ExecutorSessions.closeAll();
            }
        }
        String md = String.join("\n", table) + "\n";
        Files.writeString(Path.of("target", "spark-throughput.md"), md);
        System.out.print(md);
    }

    private static String row(String run, String policy, double seconds, double layers, double flops) {
        return String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.1f%% / %.1f%% |", run, policy, IMAGES / seconds,
                seconds, 100 * layers / IMAGES, 100 * flops / IMAGES);
    }

    private static List<BufferedImage> decode(Path grids, int from, int to) throws IOException {
        List<BufferedImage> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(ImagePreprocessor.decode(Files.readAllBytes(grids.resolve(name(i))), name(i)));
        }
        return out;
    }

    private static String name(int i) {
        return String.format(Locale.ROOT, "grid-%04d.png", i);
    }

    /** The first {@value #IMAGES} grids of the test-split caption stream, as the samples were written. */
    private static Path writeGrids(Path dir) throws IOException {
        Files.createDirectories(dir);
        GridTasks tasks = new GridTasks(FashionMnist.load().test());
        var captions = tasks.captions(SEED, IMAGES);
        for (int i = 0; i < IMAGES; i++) {
            Path f = dir.resolve(name(i));
            if (!Files.exists(f) && !ImageIO.write(tasks.render(captions.get(i).grid()), "png", f.toFile())) {
                throw new IOException("no PNG writer");
            }
        }
        // The shipped samples are the stream's first grids: the same pixels.
        for (int i = 0; i < LocalSpark.SAMPLES.size(); i++) {
            BufferedImage a = ImageIO.read(dir.resolve(name(i)).toFile());
            BufferedImage b = ImageIO.read(LocalSpark.samples().resolve(LocalSpark.SAMPLES.get(i)).toFile());
            assertArrayEquals(a.getRaster().getPixels(0, 0, 64, 64, (int[]) null),
                    b.getRaster().getPixels(0, 0, 64, 64, (int[]) null), "sample " + i);
        }
        return dir;
    }
}
