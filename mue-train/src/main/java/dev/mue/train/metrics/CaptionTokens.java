package dev.mue.train.metrics;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Caption tokenisation and n-gram counting as the COCO caption evaluation does them: lowercase,
 * punctuation removed (the PTB tokenizer's effect on captions), split on whitespace.
 */
public final class CaptionTokens {
    private CaptionTokens() {
    }

    /** The words of a caption. */
    public static List<String> words(String caption) {
        String s = caption.toLowerCase(Locale.ROOT).replaceAll("[\\p{Punct}&&[^']]", " ").replace("'", " '");
        return Arrays.stream(s.trim().split("\\s+")).filter(w -> !w.isEmpty() && !w.equals("'")).toList();
    }

    /** Counts of every n-gram of order 1..{@code maxN}, keyed by the words joined with a space. */
    public static Map<String, Integer> ngrams(List<String> words, int maxN) {
        Map<String, Integer> counts = new HashMap<>();
        for (int n = 1; n <= maxN; n++) {
            for (int i = 0; i + n <= words.size(); i++) {
                counts.merge(String.join(" ", words.subList(i, i + n)), 1, Integer::sum);
            }
        }
        return counts;
    }

    /** The order of an n-gram key. */
    static int order(String ngram) {
        int n = 1;
        for (int i = 0; i < ngram.length(); i++) {
            if (ngram.charAt(i) == ' ') {
                n++;
            }
        }
        return n;
    }
}
