package dev.mue.train.eval;

import dev.mue.train.metrics.RougeL;

/**
 * The per-example loss of an early-exit output against the same model's output at full depth,
 * bounded in [0, 1]: what calibration controls and what {@code mue eval} reports as disagreement.
 */
public final class FullModelLoss {
    /** The entailment loss in words. */
    public static final String VE = "1 if the answer differs from the full-depth model's answer, else 0";
    /** The captioning loss in words. */
    public static final String CAPTION = "1 - ROUGE-L F1 (longest common word subsequence) against the full-depth model's caption";

    private FullModelLoss() {
    }

    /** Entailment: 1 when the answers differ, else 0. */
    public static double ve(String fullAnswer, String answer) {
        return fullAnswer.equals(answer) ? 0 : 1;
    }

    /** Captioning: {@code 1 - ROUGE-L F1} of the caption against the full-depth caption. */
    public static double caption(String fullCaption, String caption) {
        return 1 - RougeL.f1(caption, fullCaption);
    }
}
