package dev.mue.spark;

import static dev.mue.spark.Results.assertErrorRow;
import static dev.mue.spark.Results.assertSameCaption;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.GenerationResult;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.spark.exec.ExecutorSessions;
import dev.mue.spark.exec.ResultColumns;
import dev.mue.spark.exec.RowFailedException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Captioning through Spark in {@code local[2]}: the session's results, error rows, one session per JVM. */
class SparkCaptionTest {
    @TempDir
    static Path dir;

    private static MueSession reference;
    private static Map<String, GenerationResult> expected;
    private static Path images;

    @BeforeAll
    static void captionSamplesAlone() throws IOException {
        images = dir.resolve("images");
        reference = LocalSpark.referenceSession();
        expected = new HashMap<>();
        for (Path p : LocalSpark.copySamples(images)) {
            expected.put(p.getFileName().toString(), reference.caption(p));
        }
        // A PNG cut short and a text file that claims to be a PNG, among the good images.
        byte[] png = Files.readAllBytes(images.resolve(LocalSpark.SAMPLES.get(0)));
        Files.write(images.resolve("broken.png"), java.util.Arrays.copyOf(png, png.length / 3));
        Files.writeString(images.resolve("notes.png"), "not an image\n");
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    private static Dataset<Row> binaryFiles() {
        return LocalSpark.spark().read().format("binaryFile").load(images.toString()).repartition(3);
    }

    private static String file(Row r) {
        String p = r.getAs("path");
        return p.substring(p.lastIndexOf('/') + 1);
    }

    @Test
    void binaryFileRowsGetTheSessionsCaptionsAndBadImagesGetErrorRows() {
        List<Row> rows = MueSpark.caption().batchSize(4).transform(binaryFiles()).collectAsList();
        assertEquals(LocalSpark.SAMPLES.size() + 2, rows.size());
        for (Row r : rows) {
            String f = file(r);
            switch (f) {
                case "broken.png" -> assertErrorRow(r, "broken.png is damaged or truncated", f);
                case "notes.png" -> assertErrorRow(r, "not a readable image", f);
                default -> assertSameCaption(expected.get(f), r, f);
            }
            int batch = r.getAs(ResultColumns.BATCH_ROWS);
            assertTrue(batch >= 1 && batch <= 4, "batch of " + batch + " rows");
            assertTrue(r.getAs("content") != null, "the input's columns are kept");
        }
    }

    @Test
    void pathColumnsArePlainPathsOrFileUrisAndAMissingFileIsAnErrorRow() {
        List<Row> in = new ArrayList<>();
        for (int i = 0; i < LocalSpark.SAMPLES.size(); i++) {
            Path p = images.resolve(LocalSpark.SAMPLES.get(i));
            in.add(RowFactory.create(i % 2 == 0 ? p.toString() : "file:" + p, i));
        }
        in.add(RowFactory.create(images.resolve("absent.png").toString(), 99));
        in.add(RowFactory.create(null, 100));
        in.add(RowFactory.create("hdfs://namenode/images/a.png", 101));
        StructType schema = new StructType().add("image", DataTypes.StringType).add("id", DataTypes.IntegerType);
        Dataset<Row> df = LocalSpark.spark().createDataFrame(in, schema).repartition(2);
        List<Row> rows = MueSpark.caption().batchSize(3).transform(df).collectAsList();
        assertEquals(in.size(), rows.size());
        for (Row r : rows) {
            int id = r.getAs("id");
            switch (id) {
                case 99 -> assertErrorRow(r, "image file not found: " + images.resolve("absent.png"), "missing file");
                case 100 -> assertErrorRow(r, "the image column 'image' is null", "null path");
                case 101 -> assertErrorRow(r, "not on a local file system; read such images with Spark's binaryFile",
                        "hdfs path");
                default -> assertSameCaption(expected.get(LocalSpark.SAMPLES.get(id)), r, "sample " + id);
            }
        }
    }

    @Test
    void oneSessionPerExecutorJvmSharedByEveryTaskAndNeverSerialised() throws IOException {
        // A policy no other test uses, so that this job's session is new to this JVM.
        ExitPolicy policy = ExitPolicy.full().toBuilder().decoderThreshold(0.999).build();
        MueSpark.Builder job = MueSpark.caption().policy(policy).batchSize(2);
        Dataset<Row> input = binaryFiles().repartition(4);
        int before = ExecutorSessions.created();
        List<Row> first = job.transform(input).collectAsList();
        assertEquals(before + 1, ExecutorSessions.created(), "4 partitions on 2 task threads: one session");
        List<Row> second = job.transform(input).collectAsList();
        assertEquals(before + 1, ExecutorSessions.created(), "a second job with the same spec reuses it");
        assertEquals(first.size(), second.size());

        try (MueSession alone = Mue.session().model(LocalSpark.defaultModel()).policy(policy).open()) {
            for (Row r : second) {
                String f = file(r);
                if (!f.equals("broken.png") && !f.equals("notes.png")) {
                    assertSameCaption(alone.caption(images.resolve(f)), r, f);
                }
            }
        }

        // What travels with a task: the job description, never a session or a model.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new dev.mue.spark.exec.PartitionRunner(
                    new dev.mue.spark.exec.JobSpec(dev.mue.api.policy.Task.CAPTION, "content", "path", null, null,
                            new dev.mue.spark.exec.SessionSpec(new dev.mue.spark.exec.ModelSource.Bundled(), null, 0,
                                    null, null, false), 2, false), input.schema()));
        }
        assertTrue(bytes.size() < 4096, "the serialised task function is " + bytes.size() + " bytes");
    }

    @Test
    void failFastFailsTheJobNamingTheBadRow() {
        SparkException e = assertThrows(SparkException.class,
                () -> MueSpark.caption().failFast(true).transform(binaryFiles()).collectAsList());
        RowFailedException cause = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RowFailedException r) {
                cause = r;
            }
        }
        assertTrue(cause != null, "a RowFailedException in the cause chain of " + e);
        assertTrue(cause.getMessage().contains("broken.png") || cause.getMessage().contains("notes.png"),
                cause.getMessage());
    }

    @Test
    void aModelShippedThroughSparkFilesGivesTheSameCaptions() throws IOException {
        // Not a temporary folder: a file added to the application must outlive it (the tests share
        // one application, and every later task fetches the files added so far).
        Path bundle = LocalSpark.writeDefaultModel(Path.of("target", "spark-files", "shipped-model"));
        String name = MueSpark.shipModel(LocalSpark.spark(), bundle);
        assertEquals("shipped-model", name);
        List<Row> rows = MueSpark.caption().modelFromSparkFiles(name).transform(binaryFiles()).collectAsList();
        for (Row r : rows) {
            String f = file(r);
            if (expected.containsKey(f)) {
                assertSameCaption(expected.get(f), r, f);
            }
        }
        assertEquals(LocalSpark.SAMPLES.size(), rows.stream().filter(r -> r.isNullAt(r.fieldIndex("error"))).count());
    }
}
