package dev.mue.spark;

import dev.mue.api.InvalidInputException;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.policy.Task;
import dev.mue.api.policy.TaskPolicy;
import dev.mue.spark.exec.JobSpec;
import dev.mue.spark.exec.ModelSource;
import dev.mue.spark.exec.PartitionRunner;
import dev.mue.spark.exec.ResultColumns;
import dev.mue.spark.exec.SessionSpec;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Captioning and visual entailment with MuE exits over a Spark {@code Dataset<Row>}.
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("binaryFile").load("hdfs:///photos");
 * Dataset<Row> captions = MueSpark.caption().batchSize(32).transform(images);
 *
 * Dataset<Row> pairs = ...;   // columns image (a path), hypothesis, premise (optional)
 * Dataset<Row> answers = MueSpark.entail().imageColumn("image").hypothesisColumn("hypothesis")
 *         .premiseColumn("premise").model("/shared/models/mue-grid").transform(pairs);
 * }</pre>
 *
 * <p>The result is the input with the columns of {@link ResultColumns} added. The image column is
 * either a path string (a local path or a {@code file:} URI, read by each executor) or the image's
 * bytes (e.g. the {@code content} column of Spark's {@code binaryFile} source). Each partition is
 * processed in batches of {@link Builder#batchSize(int)} rows through one {@code MueSession} per
 * executor JVM (see {@link dev.mue.spark.exec.ExecutorSessions}); a bad row gets the error column
 * and the job goes on, unless {@link Builder#failFast(boolean)}.
 */
public final class MueSpark {
    /** Rows per call to the session's batch path unless {@link Builder#batchSize(int)} says otherwise. */
    public static final int DEFAULT_BATCH_SIZE = 32;

    private MueSpark() {
    }

    /** A captioning job: one caption per row's image. */
    public static Builder caption() {
        return new Builder(Task.CAPTION);
    }

    /** A visual-entailment job: one answer per row's (image, hypothesis[, premise]). */
    public static Builder entail() {
        return new Builder(Task.ENTAIL);
    }

    /**
     * Ships the model bundle in {@code dir} to every executor of {@code spark}'s application
     * ({@code SparkContext.addFile(dir, true)}) and returns the name for
     * {@link Builder#modelFromSparkFiles(String)}.
     */
    public static String shipModel(SparkSession spark, Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        spark.sparkContext().addFile(abs.toString(), true);
        return abs.getFileName().toString();
    }

    /**
     * Mutable builder of a job. Defaults: the bundled default model, the highest-priority
     * available backend with a thread per core, the bundle's own policies (else the paper's),
     * batches of {@value #DEFAULT_BATCH_SIZE}, error rows rather than failed jobs.
     */
    public static final class Builder {
        private final Task task;
        private String imageColumn;
        private String hypothesisColumn = "hypothesis";
        private String premiseColumn;
        private ModelSource model = new ModelSource.Bundled();
        private String backend;
        private int threads;
        private String policyJson;
        private String policySource;
        private boolean truncateText;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private boolean failFast;

        private Builder(Task task) {
            this.task = task;
        }

        /**
         * The image column: a string (path) or binary (bytes) column. Default: {@code content} when
         * the input has that binary column ({@code binaryFile}'s), else {@code image}, else
         * {@code path}.
         */
        public Builder imageColumn(String column) {
            this.imageColumn = Objects.requireNonNull(column);
            return this;
        }

        /** Entailment's hypothesis column (strings); default {@code hypothesis}. */
        public Builder hypothesisColumn(String column) {
            this.hypothesisColumn = Objects.requireNonNull(column);
            return this;
        }

        /** Entailment's premise column (strings, null for none); default: no premise. */
        public Builder premiseColumn(String column) {
            this.premiseColumn = column;
            return this;
        }

        /** The model bundle in {@code dir}, at that path on every executor (shared storage). */
        public Builder model(String dir) {
            this.model = new ModelSource.Directory(Objects.requireNonNull(dir));
            return this;
        }

        /** The model bundle shipped with {@link MueSpark#shipModel} (or {@code addFile(dir, true)}) as {@code name}. */
        public Builder modelFromSparkFiles(String name) {
            this.model = new ModelSource.SparkFile(Objects.requireNonNull(name));
            return this;
        }

        /** The bundled default model (the default). */
        public Builder defaultModel() {
            this.model = new ModelSource.Bundled();
            return this;
        }

        /** Backend id ({@code java}, {@code torch}, {@code tf}); null or {@code auto} selects automatically. */
        public Builder backend(String id) {
            this.backend = id;
            return this;
        }

        /** Backend worker threads per executor session; 0 (default) means one per core. */
        public Builder threads(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("threads must be 0 or more, got " + n);
            }
            this.threads = n;
            return this;
        }

        /** One exit policy for both tasks, over the bundle's own ({@link ExitPolicy#full()} runs every layer). */
        public Builder policy(ExitPolicy p) {
            TaskPolicy tp = new TaskPolicy(Objects.requireNonNull(p), null);
            this.policySource = "API";
            this.policyJson = PolicyFile.toJson(new ModelPolicies(tp, tp, policySource));
            return this;
        }

        /**
         * The policies of a policy file (as {@code mue calibrate} writes), read here on the driver
         * and sent to the executors with the job; tasks it lacks keep the bundle's policy.
         */
        public Builder policyFile(Path file) {
            ModelPolicies p = PolicyFile.read(file, "policy file " + file);
            this.policySource = p.source();
            this.policyJson = PolicyFile.toJson(p);
            return this;
        }

        /** The bundle's own policies, else the paper's (the default). */
        public Builder bundlePolicy() {
            this.policyJson = null;
            this.policySource = null;
            return this;
        }

        /** Whether over-long hypotheses and premises are truncated (true) or rejected as error rows (false, the default). */
        public Builder truncateText(boolean t) {
            this.truncateText = t;
            return this;
        }

        /** Rows per call to the session's batch path, per partition; default {@value #DEFAULT_BATCH_SIZE}. */
        public Builder batchSize(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, got " + n);
            }
            this.batchSize = n;
            return this;
        }

        /** Whether a bad row fails the job (true) instead of getting the error column (false, the default). */
        public Builder failFast(boolean f) {
            this.failFast = f;
            return this;
        }

        /** Adds the result columns to {@code input} (lazily: nothing runs until an action). */
        public Dataset<Row> transform(Dataset<Row> input) {
            StructType in = input.schema();
            String image = imageColumn != null ? imageColumn : defaultImageColumn(in);
            String name = !image.equals("path") && hasField(in, "path", DataTypes.StringType) ? "path" : null;
            JobSpec spec = new JobSpec(task, image, name, task == Task.ENTAIL ? hypothesisColumn : null,
                    task == Task.ENTAIL ? premiseColumn : null,
                    new SessionSpec(model, backend, threads, policyJson, policySource, truncateText), batchSize,
                    failFast);
            for (StructField f : ResultColumns.fields(task)) {
                if (Arrays.asList(in.fieldNames()).contains(f.name())) {
                    throw new InvalidInputException("the input already has a column '" + f.name()
                            + "', which the result adds; rename it first (withColumnRenamed)");
                }
            }
            PartitionRunner runner = new PartitionRunner(spec, in);
            return input.mapPartitions(runner, Encoders.row(ResultColumns.schema(in, task)));
        }

        private static String defaultImageColumn(StructType in) {
            for (String c : List.of("content", "image", "path")) {
                if (hasField(in, c, DataTypes.BinaryType) || hasField(in, c, DataTypes.StringType)) {
                    return c;
                }
            }
            throw new InvalidInputException("no image column given and none of content, image, path in the input;"
                    + " its columns: " + String.join(", ", in.fieldNames()));
        }

        private static boolean hasField(StructType s, String name, org.apache.spark.sql.types.DataType type) {
            return Arrays.asList(s.fieldNames()).contains(name) && s.apply(name).dataType().equals(type);
        }
    }
}
