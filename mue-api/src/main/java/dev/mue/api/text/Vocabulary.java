package dev.mue.api.text;

import dev.mue.api.ModelFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The mapping between model token indices and GPT-2 BPE ids, with fairseq dictionary semantics;
 * immutable.
 *
 * <p>Indices 0 to 3 are the specials {@code <s>}, {@code <pad>}, {@code </s>} and {@code <unk>}.
 * Index {@code 4 + i} is the entry on line {@code i + 1} of a fairseq {@code dict.txt}, whose
 * lines read {@code <symbol> <count>} (e.g. {@code 13 850314}), most frequent first, exactly as in
 * OFA's {@code utils/BPE/dict.txt}. A symbol is either a GPT-2 BPE id (a decimal integer) or a
 * fairseq word that no text encodes to: the padding words fairseq appends to round the dictionary
 * size ({@code madeupword0000}, ...) and bracketed symbols such as OFA's {@code <mask>},
 * {@code <code_0>} and {@code <bin_0>} ({@link #withSymbols}). Words are kept so that indices line
 * up with the model's embedding rows; {@link #bpeOf} gives -1 for them, as for the specials.
 */
public final class Vocabulary {
    /** Index of {@code <s>}, the beginning-of-sequence marker. */
    public static final int BOS = 0;
    /** Index of {@code <pad>}, the padding token. */
    public static final int PAD = 1;
    /** Index of {@code </s>}, the end-of-sequence marker. */
    public static final int EOS = 2;
    /** Index of {@code <unk>}, which stands for every BPE id the vocabulary lacks. */
    public static final int UNK = 3;
    /** Number of special entries before the first BPE entry. */
    public static final int SPECIALS = 4;
    /**
     * Largest dictionary file read, in bytes. A full GPT-2 dictionary is about 0.6 MB and cannot
     * exceed 1.4 MB (50,257 distinct ids with 19-digit counts); the cap stops a hostile or wrong
     * file from being buffered whole.
     */
    public static final int MAX_FILE_BYTES = 4 * 1024 * 1024;

    private static final String[] SPECIAL_NAMES = {"<s>", "<pad>", "</s>", "<unk>"};
    /**
     * Non-BPE symbols accepted in a dictionary: fairseq's padding words and bracketed symbols. The
     * set is closed on purpose: any other non-numeric token is far more likely a wrong file (a
     * word-level dictionary, say) than a symbol the model was trained with.
     */
    private static final Pattern WORD = Pattern.compile("madeupword[0-9]{4}|<[A-Za-z0-9_]{1,64}>");

    private final int[] bpeIds; // -1 where the entry is a word
    private final String[] words; // null where the entry is a BPE id
    private final long[] counts;
    private final int[] indexByBpe;
    private final Map<String, Integer> indexByWord;

    private Vocabulary(int[] bpeIds, String[] words, long[] counts) {
        this.bpeIds = bpeIds;
        this.words = words;
        this.counts = counts;
        this.indexByBpe = new int[Gpt2Bpe.VOCAB_SIZE];
        this.indexByWord = new HashMap<>();
        Arrays.fill(indexByBpe, UNK);
        for (int i = 0; i < bpeIds.length; i++) {
            if (words[i] != null) {
                indexByWord.put(words[i], SPECIALS + i);
            } else {
                indexByBpe[bpeIds[i]] = SPECIALS + i;
            }
        }
    }

    /**
     * Reads a fairseq {@code dict.txt}.
     *
     * @throws ModelFormatException if the file is missing, unreadable or has a malformed line; the
     *                              message names the file and the line number
     */
    public static Vocabulary read(Path dictTxt) {
        try (InputStream in = Files.newInputStream(dictTxt)) {
            return read(in, dictTxt.toString());
        } catch (NoSuchFileException e) {
            throw new ModelFormatException("dictionary not found: " + dictTxt, e);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read dictionary " + dictTxt + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a fairseq dictionary from a stream, which is not closed.
     *
     * @param sourceName names the source in error messages, e.g. a file or resource path
     * @throws ModelFormatException if the stream cannot be read or has a malformed line
     */
    public static Vocabulary read(InputStream in, String sourceName) {
        byte[] bytes;
        try {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read dictionary " + sourceName + ": " + e.getMessage(), e);
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new ModelFormatException("dictionary " + sourceName + " is larger than the limit of "
                    + MAX_FILE_BYTES + " bytes");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException("dictionary " + sourceName + " is not valid UTF-8", e);
        }
        List<String> lines = text.lines().toList();
        int[] ids = new int[lines.size()];
        String[] words = new String[lines.size()];
        long[] counts = new long[lines.size()];
        int[] lineOfBpe = new int[Gpt2Bpe.VOCAB_SIZE];
        Map<String, Integer> lineOfWord = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            int lineNo = i + 1;
            String line = lines.get(i).stripTrailing();
            String where = "dictionary " + sourceName + " line " + lineNo;
            int space = line.indexOf(' ');
            if (space <= 0 || space != line.lastIndexOf(' ') || space == line.length() - 1) {
                throw new ModelFormatException(where + ": expected '<bpe id> <count>', got '" + abbreviate(line) + "'");
            }
            String token = line.substring(0, space);
            String count = line.substring(space + 1);
            if (isWord(token)) {
                Integer first = lineOfWord.putIfAbsent(token, lineNo);
                if (first != null) {
                    throw new ModelFormatException(where + ": duplicate token " + token + " (first on line " + first + ")");
                }
                ids[i] = -1;
                words[i] = token;
            } else {
                int bpe = parseBpe(where, token);
                if (lineOfBpe[bpe] != 0) {
                    throw new ModelFormatException(where + ": duplicate token " + bpe + " (first on line "
                            + lineOfBpe[bpe] + ")");
                }
                lineOfBpe[bpe] = lineNo;
                ids[i] = bpe;
            }
            counts[i] = parseCount(where, count);
        }
        return new Vocabulary(ids, words, counts);
    }

    /** Whether {@code token} is an accepted non-BPE symbol; the four implicit specials are not. */
    private static boolean isWord(String token) {
        return WORD.matcher(token).matches() && !token.equals("<s>") && !token.equals("<pad>")
                && !token.equals("<unk>");
    }

    private static int parseBpe(String where, String token) {
        if (!token.matches("-?[0-9]+")) {
            throw new ModelFormatException(where + ": token '" + abbreviate(token)
                    + "' is not a GPT-2 BPE id (a decimal integer) nor a fairseq symbol such as madeupword0000 or <mask>");
        }
        // More than 9 digits cannot be a valid id and might not fit an int, so no need to parse it.
        int bpe = token.length() > 9 ? -1 : Integer.parseInt(token);
        if (bpe < 0 || bpe >= Gpt2Bpe.VOCAB_SIZE) {
            throw new ModelFormatException(where + ": BPE id " + abbreviate(token) + " is outside 0.."
                    + (Gpt2Bpe.VOCAB_SIZE - 1));
        }
        return bpe;
    }

    private static long parseCount(String where, String count) {
        long value;
        try {
            value = Long.parseLong(count);
        } catch (NumberFormatException e) {
            throw new ModelFormatException(where + ": count '" + abbreviate(count) + "' is not an integer", e);
        }
        if (value < 0) {
            throw new ModelFormatException(where + ": negative count " + value);
        }
        return value;
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }

    /**
     * Builds a vocabulary from sample texts, for small models trained on a narrow domain.
     *
     * <p>Each text is normalised with {@link Tokenizer#normalize} and encoded the way OFA encodes
     * captions and questions, with one leading space (so {@code "a dog"} yields the ids of
     * {@code " a"} and {@code " dog"}). The {@code maxEntries} most frequent BPE ids are kept, ties
     * broken by the smaller id, most frequent first, each with its corpus count.
     *
     * @param maxEntries the most non-special entries to keep; 0 or more
     */
    public static Vocabulary fromCorpus(Collection<String> texts, int maxEntries) {
        if (maxEntries < 0) {
            throw new IllegalArgumentException("maxEntries must be 0 or more, got " + maxEntries);
        }
        Map<Integer, Long> freq = new HashMap<>();
        for (String text : texts) {
            for (int id : Gpt2Bpe.encode(" " + Tokenizer.normalize(text))) {
                freq.merge(id, 1L, Long::sum);
            }
        }
        List<Map.Entry<Integer, Long>> entries = new ArrayList<>(freq.entrySet());
        entries.sort(Map.Entry.<Integer, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        int n = Math.min(maxEntries, entries.size());
        int[] ids = new int[n];
        long[] counts = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = entries.get(i).getKey();
            counts[i] = entries.get(i).getValue();
        }
        return new Vocabulary(ids, new String[n], counts);
    }

    /**
     * This vocabulary with {@code symbols} appended, each with count 1, as fairseq's
     * {@code Dictionary.add_symbol} records them (OFA's task appends {@code <mask>}, the image codes
     * {@code <code_i>} and the location bins {@code <bin_i>} to its {@code dict.txt} this way).
     *
     * @throws IllegalArgumentException if a symbol is not a bracketed symbol or padding word, or
     *                                  is already in the vocabulary (or twice in {@code symbols})
     */
    public Vocabulary withSymbols(List<String> symbols) {
        int n = bpeIds.length;
        int[] ids = Arrays.copyOf(bpeIds, n + symbols.size());
        String[] w = Arrays.copyOf(words, n + symbols.size());
        long[] c = Arrays.copyOf(counts, n + symbols.size());
        java.util.Set<String> added = new java.util.HashSet<>();
        for (int i = 0; i < symbols.size(); i++) {
            String s = symbols.get(i);
            if (s == null || !isWord(s)) {
                throw new IllegalArgumentException("'" + s + "' is not a fairseq symbol such as <mask> or madeupword0000");
            }
            if (indexByWord.containsKey(s) || !added.add(s)) {
                throw new IllegalArgumentException("symbol " + s + " is already in the vocabulary");
            }
            ids[n + i] = -1;
            w[n + i] = s;
            c[n + i] = 1;
        }
        return new Vocabulary(ids, w, c);
    }

    /**
     * Writes the vocabulary as a fairseq {@code dict.txt} (specials are implicit and not written),
     * through a temporary file so that the target is never half-written.
     */
    public void write(Path file) throws IOException {
        dev.mue.api.files.AtomicFile.write(file, tmp -> {
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (int i = 0; i < bpeIds.length; i++) {
                    w.write((words[i] != null ? words[i] : Integer.toString(bpeIds[i])) + " " + counts[i] + "\n");
                }
            }
        });
    }

    /** Number of entries, specials included: {@code 4 + } the number of dictionary lines. */
    public int size() {
        return SPECIALS + bpeIds.length;
    }

    /** The index of GPT-2 BPE id {@code bpeId}, or {@link #UNK} if the vocabulary lacks it. */
    public int indexOfBpe(int bpeId) {
        return bpeId >= 0 && bpeId < indexByBpe.length ? indexByBpe[bpeId] : UNK;
    }

    /** The index of a non-BPE symbol such as {@code <mask>} or {@code <bin_0>}, or -1 if absent. */
    public int indexOfSymbol(String symbol) {
        Integer i = indexByWord.get(symbol);
        return i == null ? -1 : i;
    }

    /**
     * Whether the entry at {@code index} is a GPT-2 BPE token, i.e. text; false for the specials and
     * the non-BPE symbols.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code 0..size()-1}
     */
    public boolean isBpe(int index) {
        Objects.checkIndex(index, size());
        return index >= SPECIALS && words[index - SPECIALS] == null;
    }

    /**
     * The GPT-2 BPE id at {@code index}, or -1 for the four specials and the non-BPE symbols.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code 0..size()-1}
     */
    public int bpeOf(int index) {
        Objects.checkIndex(index, size());
        return index < SPECIALS ? -1 : bpeIds[index - SPECIALS];
    }

    /**
     * The count recorded for {@code index} in the dictionary file, 0 for the specials.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code 0..size()-1}
     */
    public long count(int index) {
        Objects.checkIndex(index, size());
        return index < SPECIALS ? 0 : counts[index - SPECIALS];
    }

    /**
     * The fairseq symbol at {@code index}: {@code <s>}, {@code <pad>}, {@code </s>}, {@code <unk>},
     * the BPE id as a decimal string, or the non-BPE symbol (e.g. {@code madeupword0000}).
     */
    public String symbol(int index) {
        Objects.checkIndex(index, size());
        if (index < SPECIALS) {
            return SPECIAL_NAMES[index];
        }
        String w = words[index - SPECIALS];
        return w != null ? w : Integer.toString(bpeIds[index - SPECIALS]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Vocabulary v && Arrays.equals(bpeIds, v.bpeIds) && Arrays.equals(words, v.words)
                && Arrays.equals(counts, v.counts);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bpeIds) * 31 + Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "Vocabulary[" + size() + " entries]";
    }
}
