package dev.mue.spark;

import static dev.mue.spark.Results.assertErrorRow;
import static dev.mue.spark.Results.assertSameAnswer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.session.MueSession;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Visual entailment through Spark: several hypotheses per image give the single-run answers. */
class SparkEntailTest {
    private static final List<String> HYPOTHESES = List.of("there is a sneaker", "there are two pullovers",
            "the dress is red", "there is a coat");
    private static final String PREMISE = "four pieces of clothing";

    @TempDir
    static Path dir;

    private static MueSession reference;
    private static List<Path> images;

    @BeforeAll
    static void open() throws IOException {
        reference = LocalSpark.referenceSession();
        images = LocalSpark.copySamples(dir.resolve("images"));
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    @Test
    void everyHypothesisOfEveryImageGetsItsSingleRunAnswerAndBadRowsGetErrors() {
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("image", DataTypes.StringType)
                .add("hypothesis", DataTypes.StringType).add("premise", DataTypes.StringType);
        List<Row> in = new ArrayList<>();
        int id = 0;
        for (Path image : images) {
            for (String h : HYPOTHESES) {
                // Every other row has a premise: OFA's "can image and text1 ... imply text2" form.
                in.add(RowFactory.create(id, image.toString(), h, id % 2 == 0 ? null : PREMISE));
                id++;
            }
        }
        int good = in.size();
        String tooLong = "there is a sneaker" + " and a sneaker".repeat(40);
        in.add(RowFactory.create(1000, images.get(0).toString(), tooLong, null));
        in.add(RowFactory.create(1001, images.get(1).toString(), null, null));
        in.add(RowFactory.create(1002, images.get(2).toString(), "   ", null));
        in.add(RowFactory.create(1003, dir.resolve("absent.png").toString(), HYPOTHESES.get(0), null));
        Dataset<Row> df = LocalSpark.spark().createDataFrame(in, schema).repartition(3);

        List<Row> rows = MueSpark.entail().imageColumn("image").hypothesisColumn("hypothesis").premiseColumn("premise")
                .batchSize(5).transform(df).collectAsList();
        assertEquals(in.size(), rows.size());
        int checked = 0;
        for (Row r : rows) {
            int rid = r.getAs("id");
            String what = "row " + rid;
            switch (rid) {
                case 1000 -> assertErrorRow(r, "exceeds the limit", what);
                case 1001 -> assertErrorRow(r, "the hypothesis column 'hypothesis' is null", what);
                case 1002 -> assertErrorRow(r, "hypothesis must not be empty", what);
                case 1003 -> assertErrorRow(r, "image file not found", what);
                default -> {
                    Path image = images.get(rid / HYPOTHESES.size());
                    String h = HYPOTHESES.get(rid % HYPOTHESES.size());
                    String premise = rid % 2 == 0 ? null : PREMISE;
                    assertSameAnswer(reference.entail(image, h, premise), r, what);
                    checked++;
                }
            }
        }
        assertEquals(good, checked);
        assertTrue(rows.stream().map(r -> (String) r.getAs("answer")).distinct().count() >= 2,
                "the hypotheses are chosen to get different answers");
    }
}
