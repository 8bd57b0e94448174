package dev.mue.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.EntailmentResult;
import dev.mue.api.ExitTrace;
import dev.mue.api.GenerationResult;
import dev.mue.session.MueSession;
import dev.mue.spark.exec.ResultColumns;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/** Assertions that compare a result row of a Spark job with a result of the session itself. */
final class Results {
    private Results() {
    }

    /** The row's caption and trace columns equal {@code expected}'s, exit layers included. */
    static void assertSameCaption(GenerationResult expected, Row row, String what) {
        assertNull(row.getAs(ResultColumns.ERROR), what);
        assertEquals(expected.text(), row.getAs(ResultColumns.CAPTION), what);
        assertEquals(expected.score(), (double) row.getAs(ResultColumns.SCORE), 0.0, what);
        assertSameTrace(expected.trace(), row, what);
    }

    /** The row's answer, probabilities and trace columns equal {@code expected}'s. */
    static void assertSameAnswer(EntailmentResult expected, Row row, String what) {
        assertNull(row.getAs(ResultColumns.ERROR), what);
        assertEquals(expected.answer(), row.getAs(ResultColumns.ANSWER), what);
        Row probs = row.getAs(ResultColumns.PROBABILITIES);
        for (String a : MueSession.ENTAILMENT_ANSWERS) {
            assertEquals(expected.probabilities().get(a), (double) probs.getAs(a), 0.0, what + " p(" + a + ")");
        }
        assertSameTrace(expected.trace(), row, what);
    }

    private static void assertSameTrace(ExitTrace t, Row row, String what) {
        Map<String, Integer> encoder = new LinkedHashMap<>();
        for (EncoderExit e : t.encoder()) {
            encoder.put(e.stream().label(), e.exitLayer());
        }
        assertEquals(encoder, row.getJavaMap(row.fieldIndex(ResultColumns.ENCODER_EXIT_LAYERS)), what);
        List<Integer> decoder = t.decoder().stream().map(DecoderStepTrace::exitLayer).toList();
        assertEquals(decoder, row.getList(row.fieldIndex(ResultColumns.DECODER_EXIT_LAYERS)), what);
        assertEquals(t.layerReduction(), (double) row.getAs(ResultColumns.EXPECTED_LAYER_REDUCTION), 0.0, what);
        assertEquals(t.wholePassFlopReduction(), (double) row.getAs(ResultColumns.EXPECTED_FLOP_REDUCTION), 0.0, what);
        assertTrue((double) row.getAs(ResultColumns.TIME_MS) > 0, what);
    }

    /** The row is an error row whose message contains {@code fragment}, every result column null. */
    static void assertErrorRow(Row row, String fragment, String what) {
        String error = row.getAs(ResultColumns.ERROR);
        assertTrue(error != null && error.contains(fragment), what + ": expected an error with '" + fragment + "', got "
                + error);
        for (String c : List.of(ResultColumns.ENCODER_EXIT_LAYERS, ResultColumns.DECODER_EXIT_LAYERS,
                ResultColumns.EXPECTED_LAYER_REDUCTION, ResultColumns.EXPECTED_FLOP_REDUCTION)) {
            assertTrue(row.isNullAt(row.fieldIndex(c)), what + ": " + c + " must be null");
        }
    }
}
