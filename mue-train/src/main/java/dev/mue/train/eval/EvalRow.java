package dev.mue.train.eval;

/**
 * One measured row of a sweep.
 *
 * @param label             the operating point
 * @param quality           accuracy (VE) or CIDEr-D (captioning)
 * @param bleu4             BLEU-4 for captioning, NaN for VE
 * @param percentOfFull     quality as a percentage of the full model's
 * @param layerReduction    the paper's expected time reduction (layer count), averaged over examples
 * @param flopReduction     the FLOP-weighted expected time reduction, averaged over examples
 * @param measuredReduction {@code 1 - seconds / seconds of the full model}, measured in the same run
 * @param seconds           wall-clock seconds of this row's examples
 * @param disagreement      the mean {@link FullModelLoss} against the first row (the full model): for VE
 *                          the share of answers that differ, for captioning the mean 1 - ROUGE-L F1
 */
public record EvalRow(String label, double quality, double bleu4, double percentOfFull, double layerReduction,
        double flopReduction, double measuredReduction, double seconds, double disagreement) {
}
