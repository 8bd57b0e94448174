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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
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
    /** Timed passes per configuration, round-robin (the machine is shared). */
    private static final int PASSES = Integer.getInteger("mue.spark.throughput.passes", 5);

    private record Policy(String label, ExitPolicy explicit) {
    }

    @Test
    void measure() throws IOException {
        Path grids = writeGrids(Path.of("target", "fmnist-test-grids"));
        List<Policy> policies = List.of(new Policy("full depth", ExitPolicy.full()),
                new Policy("MuE (bundle policy.json)", null));
        Model model = LocalSpark.defaultModel();
        List<String> runs = new ArrayList<>();
        Map<String, List<Double>> seconds = new LinkedHashMap<>();   // run|policy -> every pass
        Map<String, double[]> savings = new LinkedHashMap<>();      // run|policy -> layers, FLOPs

        // Round-robin: every configuration once per pass, so that the load of this shared machine
        // falls on all of them alike; the table gives each one's fastest and median pass.
        for (int pass = 0; pass < PASSES; pass++) {
            for (Policy p : policies) {
                Mue.SessionBuilder b = Mue.session().model(model);
                if (p.explicit() != null) {
                    b.policy(p.explicit());
                }
                try (MueSession s = b.open()) {
                    s.captionImages(decode(grids, 0, 2 * BATCH));
                    long t0 = System.nanoTime();
                    double layers = 0;
                    double flops = 0;
                    // Reading and decoding the files is timed too, as it is in the Spark runs.
                    for (int from = 0; from < IMAGES; from += BATCH) {
                        for (var r : s.captionImages(decode(grids, from, Math.min(IMAGES, from + BATCH)))) {
                            layers += r.trace().layerReduction();
                            flops += r.trace().wholePassFlopReduction();
                        }
                    }
                    record(seconds, savings, runs, "single JVM, `captionImages` in batches of " + BATCH + " from one thread ("
                            + s.backendId() + " backend, " + Runtime.getRuntime().availableProcessors() + " threads)",
                            p.label(), (System.nanoTime() - t0) / 1e9, layers, flops);
                }
            }
            for (int cores : new int[] {1, 2}) {
                SparkSession spark = SparkSession.builder().appName("mue-spark throughput")
                        .master("local[" + cores + "]").config("spark.driver.host", "127.0.0.1")
                        .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.enabled", "false")
                        .getOrCreate();
                try {
                    Dataset<Row> all = spark.read().format("binaryFile").load(grids.toString()).repartition(cores)
                            .cache();
                    assertEquals(IMAGES, all.count());
                    for (Policy p : policies) {
                        MueSpark.Builder job = MueSpark.caption().batchSize(BATCH);
                        if (p.explicit() != null) {
                            job.policy(p.explicit());
                        }
                        // Warm-up: the executor opens (or finds) its session, the JIT compiles Spark's path.
                        job.transform(all.limit(4 * BATCH).repartition(cores)).write().format("noop")
                                .mode("overwrite").save();
                        long t0 = System.nanoTime();
                        job.transform(all).write().format("noop").mode("overwrite").save();
                        double elapsed = (System.nanoTime() - t0) / 1e9;
                        Row sums = job.transform(all).agg(functions.count("*"), functions.count("error"),
                                functions.sum("expected_layer_reduction"), functions.sum("expected_flop_reduction"))
                                .first();
                        assertEquals(IMAGES, sums.getLong(0));
                        assertEquals(0, sums.getLong(1), "no error rows");
                        record(seconds, savings, runs, "Spark `local[" + cores + "]`, " + cores + " partition"
                                + (cores > 1 ? "s" : "") + ", batches of " + BATCH, p.label(), elapsed,
                                sums.getDouble(2), sums.getDouble(3));
                    }
                } finally {
                    spark.stop();
                }
            }
        }
        ExecutorSessions.closeAll();

        List<String> table = new ArrayList<>();
        table.add("| run | policy | rows/s, fastest pass | rows/s, median pass | expected saving (layers / whole-pass FLOPs) |");
        table.add("|---|---|---|---|---|");
        for (String key : runs) {
            List<Double> t = seconds.get(key).stream().sorted().toList();
            double median = t.size() % 2 == 1 ? t.get(t.size() / 2) : (t.get(t.size() / 2 - 1) + t.get(t.size() / 2)) / 2;
            double[] v = savings.get(key);
            String[] rp = key.split("\\|", 2);
            table.add(String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.1f%% / %.1f%% |", rp[0], rp[1],
                    IMAGES / t.get(0), IMAGES / median, 100 * v[0] / IMAGES, 100 * v[1] / IMAGES));
        }
        String md = String.join("\n", table) + "\n";
        Files.writeString(Path.of("target", "spark-throughput.md"), md);
        System.out.print(md);
    }

    private static void record(Map<String, List<Double>> seconds, Map<String, double[]> savings, List<String> runs,
            String run, String policy, double s, double layers, double flops) {
        String key = run + "|" + policy;
        if (!seconds.containsKey(key)) {
            runs.add(key);
            seconds.put(key, new ArrayList<>());
        }
        seconds.get(key).add(s);
        savings.put(key, new double[] {layers, flops});
        System.out.printf(Locale.ROOT, "%s, %s: %.1f s%n", run, policy, s);
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
