package dev.mue.spark.cli;

import dev.mue.api.policy.ExitPolicy;
import dev.mue.spark.MueSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

/** Options shared by {@code mue spark caption} and {@code mue spark entail}. */
final class JobOptions {
    /** File names the image input keeps unless {@code --glob} says otherwise (Hadoop glob syntax). */
    static final String IMAGE_GLOB = "*.{png,PNG,jpg,JPG,jpeg,JPEG,gif,GIF,bmp,BMP}";

    @Option(names = "--input", required = true, paramLabel = "PATH",
            description = "A folder of images (read recursively), an image file, a glob, or a table (.csv with a header, .json lines, .parquet) with an image column of paths.")
    String input;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Where Spark writes the results (a folder of part files).")
    String output;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "parquet",
            description = "Output format: parquet or json (one JSON object per line). Default: ${DEFAULT-VALUE}.")
    OutputFormat format;

    @Option(names = "--overwrite", description = "Replace an existing output folder.")
    boolean overwrite;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master, e.g. local[2]; default: spark.master (spark-submit sets it), else local[*].")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting (repeatable).")
    List<String> conf = new ArrayList<>();

    @Option(names = "--input-format", paramLabel = "FORMAT",
            description = "images, csv, json or parquet; default: by the input's extension (.csv, .json, .jsonl, .parquet), else images.")
    InputFormat inputFormat;

    @Option(names = "--glob", paramLabel = "PATTERN", defaultValue = IMAGE_GLOB,
            description = "Image files to read from a folder (Hadoop glob on the file name). Default: ${DEFAULT-VALUE}.")
    String glob;

    @Option(names = "--image-column", paramLabel = "NAME", defaultValue = "image",
            description = "A table's column of image paths. Default: ${DEFAULT-VALUE}.")
    String imageColumn;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "0",
            description = "Spread the rows over at least N partitions; 0: Spark's default parallelism. Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "" + MueSpark.DEFAULT_BATCH_SIZE,
            description = "Rows per batch within a partition. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--fail-fast", description = "Fail the job at the first bad row instead of writing it with an error.")
    boolean failFast;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model bundle folder, at this path on every executor; default: the bundled default model.")
    Path model;

    @Option(names = "--ship-model", description = "Send --model to the executors with the job (SparkContext.addFile) instead of reading it from shared storage.")
    boolean shipModel;

    @Option(names = "--backend", paramLabel = "ID", description = "Backend id (java, torch, tf); default: the best available.")
    String backend;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Backend threads per executor; 0: one per core. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--policy", paramLabel = "FILE", description = "Exit policies from a policy file (mue calibrate writes one) instead of the bundle's.")
    Path policy;

    @Option(names = "--full", description = "Run every layer (no exits): the baseline to compare against.")
    boolean full;

    /** Output formats. */
    enum OutputFormat {
        parquet, json
    }

    /** Input formats. */
    enum InputFormat {
        images, csv, json, parquet
    }

    /** The input's format: {@code --input-format}, else the extension's, else images. */
    InputFormat inputFormat() {
        if (inputFormat != null) {
            return inputFormat;
        }
        String lower = input.toLowerCase(java.util.Locale.ROOT);
        if (lower.endsWith(".csv")) {
            return InputFormat.csv;
        }
        if (lower.endsWith(".json") || lower.endsWith(".jsonl")) {
            return InputFormat.json;
        }
        if (lower.endsWith(".parquet")) {
            return InputFormat.parquet;
        }
        return InputFormat.images;
    }

    /** The job builder with the model, backend, policy and batching options applied. */
    MueSpark.Builder apply(MueSpark.Builder b, SparkSession spark) {
        if (full && policy != null) {
            throw new IllegalArgumentException("--full and --policy exclude each other");
        }
        if (shipModel && model == null) {
            throw new IllegalArgumentException("--ship-model needs --model DIR");
        }
        if (model != null) {
            if (shipModel) {
                b.modelFromSparkFiles(MueSpark.shipModel(spark, model));
            } else {
                b.model(model.toAbsolutePath().toString());
            }
        }
        if (full) {
            b.policy(ExitPolicy.full());
        } else if (policy != null) {
            b.policyFile(policy);
        }
        return b.backend(backend).threads(threads).batchSize(batchSize).failFast(failFast);
    }
}
