package dev.mue.train.metrics;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CIDEr-D (Vedantam et al. 2015) as the COCO caption evaluation's {@code CiderScorer} computes it:
 * n-grams of orders 1-4 weighted by tf-idf, with document frequencies over the reference sets of
 * the evaluated corpus and {@code log(number of images)} as the reference length; per order the
 * cosine between candidate and each reference vector with the candidate's weights clipped to the
 * reference's (the "-D" clipping), times a Gaussian penalty {@code exp(-delta^2 / (2 sigma^2))},
 * sigma 6, on the length difference; averaged over orders and references and scaled by 10.
 *
 * <p>Faithful to a quirk of that implementation: the "length" in the penalty counts the bigrams,
 * not the words, of each sentence.
 */
public final class CiderD {
    private static final int N = 4;
    private static final double SIGMA = 6.0;

    private CiderD() {
    }

    /** The corpus CIDEr-D: the mean of {@link #scores}. */
    public static double corpus(List<String> candidates, List<List<String>> references) {
        double[] s = scores(candidates, references);
        double sum = 0;
        for (double v : s) {
            sum += v;
        }
        return sum / s.length;
    }

    /** The CIDEr-D of every candidate against its references. */
    public static double[] scores(List<String> candidates, List<List<String>> references) {
        if (candidates.size() != references.size() || candidates.isEmpty()) {
            throw new IllegalArgumentException("CIDEr-D needs one reference list per candidate, got "
                    + candidates.size() + " and " + references.size());
        }
        Map<String, Integer> df = new HashMap<>();
        for (List<String> refs : references) {
            Set<String> seen = new HashSet<>();
            for (String r : refs) {
                seen.addAll(CaptionTokens.ngrams(CaptionTokens.words(r), N).keySet());
            }
            for (String g : seen) {
                df.merge(g, 1, Integer::sum);
            }
        }
        double refLen = Math.log(candidates.size());
        double[] out = new double[candidates.size()];
        for (int c = 0; c < candidates.size(); c++) {
            Vec hyp = vec(candidates.get(c), df, refLen);
            double[] score = new double[N];
            for (String r : references.get(c)) {
                Vec ref = vec(r, df, refLen);
                double delta = hyp.length - ref.length;
                for (int n = 0; n < N; n++) {
                    double val = 0;
                    for (Map.Entry<String, Double> e : hyp.w.get(n).entrySet()) {
                        double rv = ref.w.get(n).getOrDefault(e.getKey(), 0.0);
                        val += Math.min(e.getValue(), rv) * rv;
                    }
                    if (hyp.norm[n] != 0 && ref.norm[n] != 0) {
                        val /= hyp.norm[n] * ref.norm[n];
                    }
                    score[n] += val * Math.exp(-(delta * delta) / (2 * SIGMA * SIGMA));
                }
            }
            double mean = 0;
            for (double v : score) {
                mean += v;
            }
            out[c] = mean / N / references.get(c).size() * 10.0;
        }
        return out;
    }

    private record Vec(List<Map<String, Double>> w, double[] norm, double length) {
    }

    private static Vec vec(String sentence, Map<String, Integer> df, double refLen) {
        List<Map<String, Double>> w = List.of(new HashMap<>(), new HashMap<>(), new HashMap<>(), new HashMap<>());
        double[] norm = new double[N];
        double length = 0;
        for (Map.Entry<String, Integer> e : CaptionTokens.ngrams(CaptionTokens.words(sentence), N).entrySet()) {
            int n = CaptionTokens.order(e.getKey()) - 1;
            double v = e.getValue() * (refLen - Math.log(Math.max(1.0, df.getOrDefault(e.getKey(), 0))));
            w.get(n).put(e.getKey(), v);
            norm[n] += v * v;
            if (n == 1) {
                length += e.getValue();
            }
        }
        for (int n = 0; n < N; n++) {
            norm[n] = Math.sqrt(norm[n]);
        }
        return new Vec(w, norm, length);
    }
}
