package dev.mue.spark.cli;

import static org.apache.spark.sql.functions.col;

import dev.mue.spark.MueSpark;
import dev.mue.spark.exec.ExecutorSessions;
import dev.mue.spark.exec.ResultColumns;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What {@code caption} and {@code entail} share: the Spark session, reading the input, running the
 * job, writing the output and the summary line.
 */
abstract class SparkCommand implements Callable<Integer> {
    /** The error rows the summary lists; the rest are only counted. */
    private static final int ERRORS_LISTED = 10;
    /** Longest text quoted in an error line, in characters. */
    private static final int QUOTE_LIMIT = 60;
    /** binaryFile's columns that the output leaves out or renames (path becomes image). */
    private static final List<String> BINARY_FILE_EXTRAS = List.of("content", "modificationTime", "length");

    @Spec
    CommandSpec spec;

    @Mixin
    JobOptions job;

    /** The rows to run, from the images or table read per the options. */
    abstract Dataset<Row> rows(SparkSession spark, Dataset<Row> input);

    /** Besides the image, the columns of {@code columns} that name a row in the summary's error lines. */
    List<String> detailColumns(List<String> columns) {
        return List.of();
    }

    /** The job builder for this task, before the shared options are applied. */
    abstract MueSpark.Builder builder(boolean imageInput);

    @Override
    public Integer call() {
        if (job.partitions < 0) {
            throw new IllegalArgumentException("--partitions must be 0 or more, got " + job.partitions);
        }
        checkOutput();
        boolean owned = SparkSession.getDefaultSession().isEmpty() && SparkSession.getActiveSession().isEmpty();
        SparkSession spark = session();
        try {
            return run(spark);
        } finally {
            if (owned) {
                // Spark first: stopping it ends the tasks that still use the sessions.
                try {
                    spark.stop();
                } finally {
                    ExecutorSessions.closeAll();
                }
            }
        }
    }

    private int run(SparkSession spark) {
        boolean images = job.inputFormat() == JobOptions.InputFormat.images;
        Dataset<Row> rows = rows(spark, read(spark));
        int target = job.partitions > 0 ? job.partitions : spark.sparkContext().defaultParallelism();
        int partitions = rows.rdd().getNumPartitions();
        if (partitions < target) {
            rows = rows.repartition(target);
            partitions = target;
        }
        Dataset<Row> out = job.apply(builder(images), spark).transform(rows);
        if (images) {
            out = out.drop(BINARY_FILE_EXTRAS.toArray(String[]::new)).withColumnRenamed("path", "image");
            List<Column> order = new ArrayList<>();
            order.add(col("image"));
            Arrays.stream(out.columns()).filter(c -> !c.equals("image")).forEach(c -> order.add(col(c)));
            out = out.select(order.toArray(Column[]::new));
        }
        DataFrameWriter<Row> w = out.write().mode(job.overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists)
                .format(job.format.name());
        if (job.format == JobOptions.OutputFormat.json) {
            // Error rows keep their null result columns, so every line has the same keys.
            w = w.option("ignoreNullFields", "false");
        }
        long t0 = System.nanoTime();
        w.save(job.output);
        double seconds = (System.nanoTime() - t0) / 1e9;
        summary(spark, seconds, partitions, images ? "image" : job.imageColumn);
        return 0;
    }

    private SparkSession session() {
        SparkSession.Builder b = SparkSession.builder().appName("mue spark " + spec.name());
        String master = job.master != null ? job.master : System.getProperty("spark.master", "local[*]");
        b.master(master);
        if (master.startsWith("local")) {
            // One machine: everything on the loopback interface, no web UI.
            b.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false");
        }
        for (String kv : job.conf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--conf expects KEY=VALUE, got '" + kv + "'");
            }
            b.config(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return b.getOrCreate();
    }

    private Dataset<Row> read(SparkSession spark) {
        return switch (job.inputFormat()) {
            case images -> spark.read().format("binaryFile").option("pathGlobFilter", job.glob)
                    .option("recursiveFileLookup", "true").load(job.input);
            case csv -> spark.read().option("header", "true").csv(job.input);
            case json -> spark.read().json(job.input);
            case parquet -> spark.read().parquet(job.input);
        };
    }

    /** A local output folder that exists is refused before any work unless {@code --overwrite}. */
    private void checkOutput() {
        String o = job.output;
        boolean local = o.startsWith("file:") || !o.matches("^[A-Za-z][A-Za-z0-9+.-]+:.*");
        if (local && !job.overwrite) {
            Path p = Path.of(o.startsWith("file:") ? o.substring("file:".length()) : o);
            if (Files.exists(p)) {
                throw new IllegalArgumentException("output " + o + " already exists; remove it or pass --overwrite");
            }
        }
    }

    private void summary(SparkSession spark, double seconds, int partitions, String imageColumn) {
        Dataset<Row> written = spark.read().format(job.format.name()).load(job.output);
        long rows = written.count();
        Dataset<Row> bad = written.filter(col(ResultColumns.ERROR).isNotNull());
        long errors = bad.count();
        PrintWriter out = spec.commandLine().getOut();
        out.println(String.format(Locale.ROOT,
                "mue spark %s: %d rows (%d with an error) in %.1f s, %.1f rows/s; master %s, %d partitions, batch size %d;"
                        + " written to %s (%s)",
                spec.name(), rows, errors, seconds, rows / seconds, spark.sparkContext().master(), partitions,
                job.batchSize, job.output, job.format));
        List<Column> which = new ArrayList<>(List.of(col(imageColumn).cast("string")));
        which.addAll(detailColumns(List.of(written.columns())).stream().map(c -> col(c).cast("string")).toList());
        which.add(col(ResultColumns.ERROR));
        for (Row r : bad.select(which.toArray(Column[]::new)).limit(ERRORS_LISTED).collectAsList()) {
            StringBuilder line = new StringBuilder("  error: ").append(r.getString(0));
            for (int i = 1; i < r.length() - 1; i++) {
                String v = String.valueOf(r.getString(i));
                line.append(" \"").append(v.length() > QUOTE_LIMIT ? v.substring(0, QUOTE_LIMIT) + "..." : v).append('"');
            }
            out.println(line.append(": ").append(r.getString(r.length() - 1)));
        }
        if (errors > ERRORS_LISTED) {
            out.println("  ... and " + (errors - ERRORS_LISTED) + " more rows with an error");
        }
        out.flush();
    }
}
