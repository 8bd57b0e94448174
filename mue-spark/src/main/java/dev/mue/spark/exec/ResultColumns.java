package dev.mue.spark.exec;

import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.EntailmentResult;
import dev.mue.api.ExitTrace;
import dev.mue.api.GenerationResult;
import dev.mue.api.policy.Task;
import dev.mue.session.MueSession;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The columns a job adds to its input, their types, and their values for a result or an error.
 *
 * <p>Captioning adds {@value #CAPTION} and {@value #SCORE}; entailment adds {@value #ANSWER} and
 * {@value #PROBABILITIES} (a struct of {@code yes}, {@code no} and {@code maybe}). Both then add
 * {@value #ENCODER_EXIT_LAYERS} (stream label to the layer it exited after, e.g.
 * {@code {image: 6, text: 6}}), {@value #DECODER_EXIT_LAYERS} (one per generated token; one entry,
 * the scoring pass, for entailment), {@value #EXPECTED_LAYER_REDUCTION} (the paper's layer-count
 * measure), {@value #EXPECTED_FLOP_REDUCTION} (whole pass, backbone and head included),
 * {@value #TIME_MS} (the wall clock of the row's batch, decoding included, divided by its rows),
 * {@value #BATCH_ROWS} and {@value #ERROR}: null for a result; for a bad row the reason, with every
 * result column null.
 */
public final class ResultColumns {
    /** Captioning: the caption. */
    public static final String CAPTION = "caption";
    /** Captioning: the caption's length-normalised beam score. */
    public static final String SCORE = "score";
    /** Entailment: yes, no or maybe. */
    public static final String ANSWER = "answer";
    /** Entailment: the probabilities of yes, no and maybe (a struct). */
    public static final String PROBABILITIES = "probabilities";
    /** Exit layer per encoder stream (a map from the stream's label). */
    public static final String ENCODER_EXIT_LAYERS = "encoder_exit_layers";
    /** Decoder exit layer per generated token (an array). */
    public static final String DECODER_EXIT_LAYERS = "decoder_exit_layers";
    /** The trace's {@link ExitTrace#layerReduction()}. */
    public static final String EXPECTED_LAYER_REDUCTION = "expected_layer_reduction";
    /** The trace's {@link ExitTrace#wholePassFlopReduction()}. */
    public static final String EXPECTED_FLOP_REDUCTION = "expected_flop_reduction";
    /** Milliseconds of the row's batch (decoding and inference) divided by the batch's rows. */
    public static final String TIME_MS = "time_ms";
    /** Rows in the row's batch. */
    public static final String BATCH_ROWS = "batch_rows";
    /** Why the row has no result, or null. */
    public static final String ERROR = "error";

    private static final StructType PROBABILITY_TYPE = new StructType(MueSession.ENTAILMENT_ANSWERS.stream()
            .map(a -> DataTypes.createStructField(a, DataTypes.DoubleType, false)).toArray(StructField[]::new));

    private ResultColumns() {
    }

    /** The columns {@code task} adds, in order. */
    public static List<StructField> fields(Task task) {
        List<StructField> f = new ArrayList<>();
        if (task == Task.CAPTION) {
            f.add(DataTypes.createStructField(CAPTION, DataTypes.StringType, true));
            f.add(DataTypes.createStructField(SCORE, DataTypes.DoubleType, true));
        } else {
            f.add(DataTypes.createStructField(ANSWER, DataTypes.StringType, true));
            f.add(DataTypes.createStructField(PROBABILITIES, PROBABILITY_TYPE, true));
        }
        f.add(DataTypes.createStructField(ENCODER_EXIT_LAYERS,
                DataTypes.createMapType(DataTypes.StringType, DataTypes.IntegerType, false), true));
        f.add(DataTypes.createStructField(DECODER_EXIT_LAYERS, DataTypes.createArrayType(DataTypes.IntegerType, false),
                true));
        f.add(DataTypes.createStructField(EXPECTED_LAYER_REDUCTION, DataTypes.DoubleType, true));
        f.add(DataTypes.createStructField(EXPECTED_FLOP_REDUCTION, DataTypes.DoubleType, true));
        f.add(DataTypes.createStructField(TIME_MS, DataTypes.DoubleType, false));
        f.add(DataTypes.createStructField(BATCH_ROWS, DataTypes.IntegerType, false));
        f.add(DataTypes.createStructField(ERROR, DataTypes.StringType, true));
        return f;
    }

    /** {@code input} with {@code task}'s columns appended. */
    public static StructType schema(StructType input, Task task) {
        StructType s = input;
        for (StructField f : fields(task)) {
            s = s.add(f);
        }
        return s;
    }

    /** The added values for a caption. */
    static Object[] caption(GenerationResult r, double timeMs, int batchRows) {
        return withTrace(new Object[] {r.text(), r.score()}, r.trace(), timeMs, batchRows);
    }

    /** The added values for an entailment result. */
    static Object[] entailment(EntailmentResult r, double timeMs, int batchRows) {
        Object[] probs = new Object[MueSession.ENTAILMENT_ANSWERS.size()];
        for (int i = 0; i < probs.length; i++) {
            probs[i] = r.probabilities().get(MueSession.ENTAILMENT_ANSWERS.get(i));
        }
        return withTrace(new Object[] {r.answer(), RowFactory.create(probs)}, r.trace(), timeMs, batchRows);
    }

    /** The added values for a row that failed: every result null, the reason in {@value #ERROR}. */
    static Object[] error(String reason, double timeMs, int batchRows) {
        return new Object[] {null, null, null, null, null, null, timeMs, batchRows, reason};
    }

    private static Object[] withTrace(Object[] head, ExitTrace t, double timeMs, int batchRows) {
        Map<String, Integer> encoder = new LinkedHashMap<>();
        for (EncoderExit e : t.encoder()) {
            encoder.put(e.stream().label(), e.exitLayer());
        }
        List<Integer> decoder = new ArrayList<>();
        for (DecoderStepTrace s : t.decoder()) {
            decoder.add(s.exitLayer());
        }
        return new Object[] {head[0], head[1], scala.jdk.javaapi.CollectionConverters.asScala(encoder),
                scala.jdk.javaapi.CollectionConverters.asScala(decoder).toSeq(), t.layerReduction(),
                t.wholePassFlopReduction(), timeMs, batchRows, null};
    }

    /** {@code row}'s values followed by {@code added}. */
    static Row append(Row row, Object[] added) {
        Object[] v = new Object[row.length() + added.length];
        for (int i = 0; i < row.length(); i++) {
            v[i] = row.get(i);
        }
        System.arraycopy(added, 0, v, row.length(), added.length);
        return RowFactory.create(v);
    }
}
