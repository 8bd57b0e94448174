package dev.mue.spark.cli;

import dev.mue.spark.MueSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;

/** {@code mue spark caption}: a caption, with its exit trace, per image. */
@Command(name = "caption", mixinStandardHelpOptions = true, versionProvider = SparkCli.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Caption every image of the input on Spark (OFA prompt \" what does the image describe?\").")
final class CaptionCommand extends SparkCommand {
    @Override
    Dataset<Row> rows(SparkSession spark, Dataset<Row> input) {
        return input;
    }

    @Override
    MueSpark.Builder builder(boolean imageInput) {
        MueSpark.Builder b = MueSpark.caption();
        return imageInput ? b.imageColumn("content") : b.imageColumn(job.imageColumn);
    }
}
