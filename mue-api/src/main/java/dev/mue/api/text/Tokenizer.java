package dev.mue.api.text;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Converts text to model token indices and back: GPT-2 byte-level BPE followed by a fairseq
 * {@link Vocabulary}, as OFA's {@code encode_text} does; immutable and thread-safe.
 *
 * <p>Encoding does not normalise; call {@link #normalize} first where OFA would (captions,
 * questions, hypotheses), and prepend a space where OFA does ({@code " {}".format(text)}).
 */
public final class Tokenizer {
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private static final String LEADING_PUNCTUATION = ",.!?*#:;~";

    private final Vocabulary vocabulary;

    /** Creates a tokenizer over {@code vocabulary}. */
    public Tokenizer(Vocabulary vocabulary) {
        this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
    }

    /** The vocabulary that maps BPE ids to indices. */
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /**
     * Encodes {@code text} to dictionary indices, without {@code <s>} or {@code </s>}; BPE ids the
     * vocabulary lacks become {@link Vocabulary#UNK}.
     */
    public int[] encode(String text) {
        int[] ids = Gpt2Bpe.encode(text);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = vocabulary.indexOfBpe(ids[i]);
        }
        return ids;
    }

    /** {@link #encode} wrapped in {@link Vocabulary#BOS} and {@link Vocabulary#EOS}. */
    public int[] encodeWithSpecials(String text) {
        int[] body = encode(text);
        int[] out = new int[body.length + 2];
        out[0] = Vocabulary.BOS;
        System.arraycopy(body, 0, out, 1, body.length);
        out[out.length - 1] = Vocabulary.EOS;
        return out;
    }

    /**
     * Decodes dictionary indices to text, skipping {@code <s>}, {@code <pad>} and {@code </s>} and
     * writing {@code <unk>} for {@link Vocabulary#UNK}.
     *
     * @throws IllegalArgumentException if an index is outside the vocabulary
     */
    public String decode(int[] indices) {
        StringBuilder out = new StringBuilder();
        int[] run = new int[indices.length];
        int n = 0;
        for (int index : indices) {
            if (index < 0 || index >= vocabulary.size()) {
                throw new IllegalArgumentException("token index " + index + " is outside the vocabulary of "
                        + vocabulary.size() + " entries");
            }
            if (index == Vocabulary.UNK) {
                // Decode the pending run first: a character may span several BPE tokens, so runs are
                // decoded as a whole rather than token by token.
                out.append(Gpt2Bpe.decode(run, 0, n)).append("<unk>");
                n = 0;
            } else if (index >= Vocabulary.SPECIALS) {
                run[n++] = vocabulary.bpeOf(index);
            }
        }
        out.append(Gpt2Bpe.decode(run, 0, n));
        return out.toString();
    }

    /**
     * OFA's caption and question normalisation ({@code pre_caption}): lower-case, strip leading
     * {@code , . ! ? * # : ; ~}, turn {@code -} and {@code /} into spaces, collapse whitespace
     * runs to one space, and trim.
     */
    public static String normalize(String text) {
        String s = text.toLowerCase(Locale.ROOT);
        int start = 0;
        while (start < s.length() && LEADING_PUNCTUATION.indexOf(s.charAt(start)) >= 0) {
            start++;
        }
        s = s.substring(start).replace('-', ' ').replace('/', ' ');
        return WHITESPACE.matcher(s).replaceAll(" ").strip();
    }

    @Override
    public String toString() {
        return "Tokenizer[" + vocabulary + "]";
    }
}
