package dev.mue.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A visual-entailment verdict: which of "yes" (entailment), "no" (contradiction) and "maybe"
 * (neutral) the model scores highest, with every candidate's score.
 *
 * @param answer        {@code yes}, {@code no} or {@code maybe}
 * @param logProbs      per candidate, its summed log-probability constrained to the candidates, in
 *                      the order given (the session's: yes, no, maybe)
 * @param probabilities per candidate, the softmax of {@code logProbs}, in the same order
 * @param trace         every exit decision (the decoder has one pass)
 */
public record EntailmentResult(String answer, Map<String, Double> logProbs, Map<String, Double> probabilities,
        ExitTrace trace) {
    /** Copies the maps, keeping their iteration order (a plain {@code Map.copyOf} would not). */
    public EntailmentResult {
        logProbs = Collections.unmodifiableMap(new LinkedHashMap<>(logProbs));
        probabilities = Collections.unmodifiableMap(new LinkedHashMap<>(probabilities));
    }

    /** The label in SNLI-VE terms: entailment, contradiction or neutral. */
    public String label() {
        return switch (answer) {
            case "yes" -> "entailment";
            case "no" -> "contradiction";
            default -> "neutral";
        };
    }
}
