package dev.mue.train.metrics;

import java.util.List;
import java.util.Map;

/**
 * Corpus BLEU as the COCO caption evaluation computes it (Papineni et al. 2002; pycocoevalcap's
 * {@code BleuScorer} with the "closest" reference length): clipped n-gram matches and candidate
 * n-grams summed over the corpus, the geometric mean of the precisions of orders 1..N (with the
 * scorer's tiny/small constants guarding zero counts), times the brevity penalty computed from the
 * summed candidate length and the summed closest reference lengths (ties to the shorter).
 */
public final class Bleu {
    private static final double TINY = 1e-15;
    private static final double SMALL = 1e-9;

    private Bleu() {
    }

    /**
     * BLEU-{@code maxN} of {@code candidates} against their {@code references} (same order).
     *
     * @return the score in [0, 1]
     */
    public static double corpus(List<String> candidates, List<List<String>> references, int maxN) {
        if (candidates.size() != references.size() || candidates.isEmpty()) {
            throw new IllegalArgumentException("BLEU needs one reference list per candidate, got "
                    + candidates.size() + " and " + references.size());
        }
        double[] correct = new double[maxN];
        double[] guess = new double[maxN];
        double testLen = 0;
        double refLen = 0;
        for (int c = 0; c < candidates.size(); c++) {
            List<String> hyp = CaptionTokens.words(candidates.get(c));
            Map<String, Integer> hypCounts = CaptionTokens.ngrams(hyp, maxN);
            Map<String, Integer> maxRef = new java.util.HashMap<>();
            int closest = -1;
            for (String r : references.get(c)) {
                List<String> ref = CaptionTokens.words(r);
                CaptionTokens.ngrams(ref, maxN).forEach((k, v) -> maxRef.merge(k, v, Math::max));
                int len = ref.size();
                if (closest < 0 || Math.abs(len - hyp.size()) < Math.abs(closest - hyp.size())
                        || (Math.abs(len - hyp.size()) == Math.abs(closest - hyp.size()) && len < closest)) {
                    closest = len;
                }
            }
            testLen += hyp.size();
            refLen += closest;
            for (int n = 1; n <= maxN; n++) {
                guess[n - 1] += Math.max(0, hyp.size() - n + 1);
            }
            for (Map.Entry<String, Integer> e : hypCounts.entrySet()) {
                correct[CaptionTokens.order(e.getKey()) - 1] += Math.min(e.getValue(), maxRef.getOrDefault(e.getKey(), 0));
            }
        }
        double logSum = 0;
        for (int n = 0; n < maxN; n++) {
            logSum += Math.log((correct[n] + TINY) / (guess[n] + SMALL));
        }
        double bleu = Math.exp(logSum / maxN);
        double ratio = (testLen + TINY) / (refLen + SMALL);
        if (ratio < 1) {
            bleu *= Math.exp(1 - 1 / ratio);
        }
        return bleu;
    }
}
