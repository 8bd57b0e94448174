package dev.mue.api.text;

import dev.mue.api.InvalidInputException;
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
     * Decodes dictionary indices to text: BPE entries as text, {@code <s>}, {@code <pad>} and
     * {@code </s>} skipped, {@link Vocabulary#UNK} as {@code <unk>}, and every other entry (an
     * imported OFA model's {@code <mask>}, {@code <code_i>}, {@code <bin_i>}, fairseq's
     * {@code madeupword0000}) as its symbol, e.g. {@code <bin_718>}; an index past the dictionary
     * (a model with more embedding rows than entries) as {@code <extra_N>}. Decoding never fails
     * on an index the model can emit.
     *
     * @throws InvalidInputException if an index is negative
     */
    public String decode(int[] indices) {
        StringBuilder out = new StringBuilder();
        int[] run = new int[indices.length];
        int n = 0;
        for (int index : indices) {
            if (index < 0) {
                throw new InvalidInputException("token index " + index + " is negative");
            }
            if (index < vocabulary.size() && vocabulary.isBpe(index)) {
                run[n++] = vocabulary.bpeOf(index);
                continue;
            }
            if (index >= Vocabulary.SPECIALS || index == Vocabulary.UNK) {
                // Decode the pending run first: a character may span several BPE tokens, so runs are
                // decoded as a whole rather than token by token.
                out.append(Gpt2Bpe.decode(run, 0, n));
                n = 0;
                out.append(index == Vocabulary.UNK ? "<unk>"
                        : index < vocabulary.size() ? symbolText(vocabulary.symbol(index)) : "<extra_" + index + ">");
            }
        }
        out.append(Gpt2Bpe.decode(run, 0, n));
        return out.toString();
    }

    /** A non-BPE symbol as it reads in text: bracketed ones as they are, bare words in brackets. */
    private static String symbolText(String symbol) {
        return symbol.startsWith("<") ? symbol : "<" + symbol + ">";
    }

    /**
     * The entries a caption may be generated from, for a model with {@code rows} output logits:
     * the vocabulary's BPE (text) entries and {@link Vocabulary#UNK}; never {@code <mask>}, image
     * codes, location bins, fairseq's padding words or rows past the dictionary. (Eos is always
     * allowed by the search; pad and bos follow the decoding options.) OFA's captioning constrains
     * generation the same way.
     */
    public java.util.BitSet textTokens(int rows) {
        java.util.BitSet b = new java.util.BitSet(rows);
        int n = Math.min(rows, vocabulary.size());
        for (int i = Vocabulary.SPECIALS; i < n; i++) {
            if (vocabulary.isBpe(i)) {
                b.set(i);
            }
        }
        if (rows > Vocabulary.UNK) {
            b.set(Vocabulary.UNK);
        }
        return b;
    }

    /**
     * mue's own normalisation of captions and hypotheses (what its bundles were trained with):
     * lower-case, strip leading {@code , . ! ? * # : ; ~}, turn {@code -} and {@code /} into
     * spaces, collapse every whitespace run (a single tab or newline too) to one space, and trim.
     * It departs from OFA's {@link #preCaption} in the whitespace rule, {@code <person>} and the
     * word limit; a bundle's {@code ModelConfig.Conventions} choose between them.
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

    /**
     * OFA's {@code pre_caption} (data/ofa_dataset.py), exactly: lower-case, strip leading
     * {@code , . ! ? * # : ; ~}, {@code -} and {@code /} to spaces, {@code <person>} to
     * {@code person}, runs of two or more whitespace characters (Python's {@code \s}) to one space
     * (a single tab or newline stays), strip trailing newlines, then spaces at both ends, and keep
     * the first {@code maxWords} space-separated words (0: no limit). OFA applies it to SNLI-VE
     * hypotheses and premises and to captions.
     */
    public static String preCaption(String text, int maxWords) {
        return ofaClean(text, true, maxWords);
    }

    /**
     * OFA's {@code pre_question}: as {@link #preCaption} but without the {@code <person>}
     * replacement. OFA applies it to VQA questions.
     */
    public static String preQuestion(String text, int maxWords) {
        return ofaClean(text, false, maxWords);
    }

    /** What Python's {@code \s} matches in a str pattern: ASCII whitespace, \x1c-\x1f and Unicode spaces. */
    private static final Pattern PY_WHITESPACE_RUN = Pattern.compile(
            "[\t\n\u000B\f\r\u001C-\u001F \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]{2,}");

    private static String ofaClean(String text, boolean person, int maxWords) {
        if (maxWords < 0) {
            throw new IllegalArgumentException("max words must be 0 (none) or positive, got " + maxWords);
        }
        String s = text.toLowerCase(Locale.ROOT);
        int start = 0;
        while (start < s.length() && LEADING_PUNCTUATION.indexOf(s.charAt(start)) >= 0) {
            start++;
        }
        s = s.substring(start).replace('-', ' ').replace('/', ' ');
        if (person) {
            s = s.replace("<person>", "person");
        }
        s = PY_WHITESPACE_RUN.matcher(s).replaceAll(" ");
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '\n') {
            end--;
        }
        s = s.substring(0, end);
        int a = 0;
        int b = s.length();
        while (a < b && s.charAt(a) == ' ') {
            a++;
        }
        while (b > a && s.charAt(b - 1) == ' ') {
            b--;
        }
        s = s.substring(a, b);
        if (maxWords > 0) {
            String[] words = s.split(" ", -1);
            if (words.length > maxWords) {
                s = String.join(" ", java.util.Arrays.copyOf(words, maxWords));
            }
        }
        return s;
    }

    @Override
    public String toString() {
        return "Tokenizer[" + vocabulary + "]";
    }
}
