package dev.mue.spark.cli;

import dev.mue.spark.MueSpark;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mue spark entail}: an answer (yes, no, maybe) with its probabilities and exit trace per
 * (image, hypothesis): every image of the input with every {@code --hypothesis}, or the rows of a
 * table with image, hypothesis and optional premise columns.
 */
@Command(name = "entail", mixinStandardHelpOptions = true, versionProvider = SparkCli.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Visual entailment on Spark: does the image (and premise) entail the hypothesis? yes, no or maybe.")
final class EntailCommand extends SparkCommand {
    @Option(names = "--hypothesis", paramLabel = "TEXT",
            description = "A hypothesis to test on every image (repeatable); without it the input is a table with a hypothesis column.")
    List<String> hypotheses = new ArrayList<>();

    @Option(names = "--premise", paramLabel = "TEXT", description = "A premise text for every --hypothesis.")
    String premise;

    @Option(names = "--hypothesis-column", paramLabel = "NAME", defaultValue = "hypothesis",
            description = "A table's hypothesis column. Default: ${DEFAULT-VALUE}.")
    String hypothesisColumn;

    @Option(names = "--premise-column", paramLabel = "NAME", defaultValue = "premise",
            description = "A table's premise column, used when the table has it. Default: ${DEFAULT-VALUE}.")
    String premiseColumn;

    private boolean premises;

    @Override
    Dataset<Row> rows(SparkSession spark, Dataset<Row> input) {
        boolean images = job.inputFormat() == JobOptions.InputFormat.images;
        if (hypotheses.isEmpty()) {
            if (images) {
                throw new IllegalArgumentException("entail needs --hypothesis TEXT for an image input, or a table input"
                        + " with a '" + hypothesisColumn + "' column");
            }
            if (premise != null) {
                throw new IllegalArgumentException("--premise goes with --hypothesis; a table brings its own premise column");
            }
            premises = List.of(input.columns()).contains(premiseColumn);
            return input;
        }
        StructType schema = new StructType().add(hypothesisColumn, DataTypes.StringType, false)
                .add(premiseColumn, DataTypes.StringType, true);
        List<Row> hs = hypotheses.stream().map(h -> RowFactory.create(h, premise)).toList();
        premises = premise != null;
        Dataset<Row> table = spark.createDataFrame(hs, schema);
        if (!premises) {
            table = table.drop(premiseColumn);
        }
        return input.crossJoin(table);
    }

    @Override
    List<String> detailColumns(List<String> columns) {
        return columns.contains(hypothesisColumn) ? List.of(hypothesisColumn) : List.of();
    }

    @Override
    MueSpark.Builder builder(boolean imageInput) {
        MueSpark.Builder b = MueSpark.entail().hypothesisColumn(hypothesisColumn)
                .premiseColumn(premises ? premiseColumn : null);
        return imageInput ? b.imageColumn("content") : b.imageColumn(job.imageColumn);
    }
}
