package dev.mue.train.metrics;

import java.util.List;

/**
 * ROUGE-L (Lin, 2004) between two captions: the longest common subsequence of their words
 * ({@link CaptionTokens#words}), as an F1 of LCS precision and recall. It lies in [0, 1], is 1 only
 * for the same words in the same order, and so {@code 1 - F1} is a bounded per-caption loss.
 */
public final class RougeL {
    private RougeL() {
    }

    /** The ROUGE-L F1 of {@code candidate} against {@code reference}; two empty captions score 1. */
    public static double f1(String candidate, String reference) {
        List<String> c = CaptionTokens.words(candidate);
        List<String> r = CaptionTokens.words(reference);
        if (c.isEmpty() && r.isEmpty()) {
            return 1;
        }
        int lcs = lcs(c, r);
        if (lcs == 0) {
            return 0;
        }
        double p = (double) lcs / c.size();
        double q = (double) lcs / r.size();
        return 2 * p * q / (p + q);
    }

    /** Length of the longest common subsequence, by the textbook dynamic programme over two rows. */
    static int lcs(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = a.get(i - 1).equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }
}
