package dev.mue.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.InvalidInputException;
import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.policy.TaskPolicy;
import dev.mue.spark.exec.ResultColumns;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The job builder: input checks before anything runs, the output schema, policies as they travel. */
class MueSparkTest {
    private static Dataset<Row> empty(StructType schema) {
        return LocalSpark.spark().createDataFrame(List.of(), schema);
    }

    @Test
    void resultColumnsFollowTheInputsInTheDocumentedOrder() {
        StructType in = new StructType().add("path", DataTypes.StringType).add("content", DataTypes.BinaryType);
        StructType out = MueSpark.caption().transform(empty(in)).schema();
        assertEquals(List.of("path", "content", "caption", "score", "encoder_exit_layers", "decoder_exit_layers",
                "expected_layer_reduction", "expected_flop_reduction", "time_ms", "batch_rows", "error"),
                List.of(out.fieldNames()));
        StructType entail = MueSpark.entail().transform(empty(in.add("hypothesis", DataTypes.StringType))).schema();
        assertEquals("struct<yes:double,no:double,maybe:double>",
                entail.apply(ResultColumns.PROBABILITIES).dataType().simpleString());
        assertEquals("map<string,int>", entail.apply(ResultColumns.ENCODER_EXIT_LAYERS).dataType().simpleString());
    }

    @Test
    void badInputSchemasAreRejectedBeforeAnyTaskRuns() {
        InvalidInputException missing = assertThrows(InvalidInputException.class,
                () -> MueSpark.caption().transform(empty(new StructType().add("file", DataTypes.StringType))));
        assertTrue(missing.getMessage().contains("none of content, image, path") && missing.getMessage().contains("file"),
                missing.getMessage());
        InvalidInputException type = assertThrows(InvalidInputException.class, () -> MueSpark.caption()
                .imageColumn("n").transform(empty(new StructType().add("n", DataTypes.IntegerType))));
        assertTrue(type.getMessage().contains("'n' is int, expected string or binary"), type.getMessage());
        InvalidInputException clash = assertThrows(InvalidInputException.class, () -> MueSpark.caption()
                .transform(empty(new StructType().add("image", DataTypes.StringType).add("caption", DataTypes.StringType))));
        assertTrue(clash.getMessage().contains("already has a column 'caption'"), clash.getMessage());
        InvalidInputException noHypothesis = assertThrows(InvalidInputException.class,
                () -> MueSpark.entail().transform(empty(new StructType().add("image", DataTypes.StringType))));
        assertTrue(noHypothesis.getMessage().contains("hypothesis column 'hypothesis' is not in the input"),
                noHypothesis.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MueSpark.caption().batchSize(0));
    }

    @Test
    void anExplicitPolicyTravelsAsPolicyFileJsonWithoutLoss() {
        ExitPolicy p = ExitPolicy.builder().imageThreshold(0.93).textThreshold(0.97).jointThreshold(0.91)
                .decoderSchedule(new DecoderSchedule.Decay(0.987, 0.95, 1.0)).kvPolicy(KvPolicy.OMIT)
                .encoderMode(EncoderMode.JOINT).imageRelativeBiasInEncoder(false).minExitLayer(2).build();
        TaskPolicy tp = new TaskPolicy(p, null);
        String json = PolicyFile.toJson(new ModelPolicies(tp, tp, "API"));
        ModelPolicies back = PolicyFile.parse(json, "API", "API");
        assertEquals(p, back.caption().policy());
        assertEquals(p, back.entail().policy());
    }
}
