package dev.mue.api.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {

    @TempDir
    Path dir;

    /** A dictionary file listing the given BPE ids in order, each with a decreasing count. */
    private Vocabulary dictOf(int... bpeIds) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < bpeIds.length; i++) {
            sb.append(bpeIds[i]).append(' ').append(1000 - i).append('\n');
        }
        Path file = dir.resolve("dict.txt");
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
        return Vocabulary.read(file);
    }

    @Test
    void encodesKnownGpt2IdsThroughTheDictionary() throws IOException {
        // r50k_base ("gpt2"): "Hello" = 15496, " world" = 995.
        Vocabulary v = dictOf(995, 15496);
        Tokenizer t = new Tokenizer(v);
        assertArrayEquals(new int[] {5, 4}, t.encode("Hello world"));
        assertEquals(15496, v.bpeOf(5));
        assertEquals(995, v.bpeOf(4));
        assertArrayEquals(new int[] {Vocabulary.BOS, 5, 4, Vocabulary.EOS}, t.encodeWithSpecials("Hello world"));
        assertArrayEquals(new int[] {15496, 995}, Gpt2Bpe.encode("Hello world"));
    }

    @Test
    void yesNoMaybeAreSingleBpeTokens() {
        // VQA answers are scored as single tokens; these ids are fixed by the GPT-2 BPE.
        assertArrayEquals(new int[] {3763}, Gpt2Bpe.encode(" yes"));
        assertArrayEquals(new int[] {645}, Gpt2Bpe.encode(" no"));
        assertArrayEquals(new int[] {3863}, Gpt2Bpe.encode(" maybe"));
    }

    @Test
    void tokensMissingFromTheVocabularyBecomeUnk() throws IOException {
        Tokenizer t = new Tokenizer(dictOf(995));
        assertArrayEquals(new int[] {Vocabulary.UNK, 4}, t.encode("Hello world"));
        assertEquals("<unk> world", t.decode(t.encode("Hello world")));
    }

    @Test
    void endOfTextMarkerInInputIsPlainText() {
        Tokenizer t = new Tokenizer(Vocabulary.fromCorpus(List.of("x <|endoftext|>"), 100));
        String text = " x <|endoftext|>";
        assertEquals(text, t.decode(t.encode(text)));
    }

    @Test
    void roundTripsASentenceBuiltFromTheCorpusVocabulary() {
        List<String> corpus = List.of("A man riding a wave on top of a surfboard.",
                "Two dogs play in the snow!", "what is the man holding?", "Ünïcödé café — naïve 日本語");
        Vocabulary v = Vocabulary.fromCorpus(corpus, 1000);
        Tokenizer t = new Tokenizer(v);
        String sentence = " " + Tokenizer.normalize("Two dogs riding a wave on the snow.");
        int[] ids = t.encode(sentence);
        assertEquals(sentence, t.decode(ids));
        for (int id : ids) {
            assertTrue(id >= Vocabulary.SPECIALS, "every token must be in the vocabulary: " + id);
        }
        // Multi-byte characters split across BPE tokens must be reassembled.
        String unicode = " " + Tokenizer.normalize("Ünïcödé café — naïve 日本語");
        assertEquals(unicode, t.decode(t.encode(unicode)));
    }

    @Test
    void decodeSkipsSpecialsAndRendersUnk() throws IOException {
        Tokenizer t = new Tokenizer(dictOf(15496, 995));
        int[] ids = {Vocabulary.BOS, 4, Vocabulary.PAD, Vocabulary.UNK, 5, Vocabulary.EOS, Vocabulary.PAD};
        assertEquals("Hello<unk> world", t.decode(ids));
        assertEquals("", t.decode(new int[0]));
        // A model may have more embedding rows than the dictionary has entries: readable, no crash.
        assertEquals("Hello<extra_6>", t.decode(new int[] {4, 6}));
        dev.mue.api.InvalidInputException e = assertThrows(dev.mue.api.InvalidInputException.class,
                () -> t.decode(new int[] {-1}));
        assertEquals("token index -1 is negative", e.getMessage());
    }

    @Test
    void everyEntryOfAnOfaVocabularyDecodesAndCaptionsUseTextEntriesOnly() throws IOException {
        Vocabulary v = dictOf(15496, 995).withSymbols(List.of("<mask>", "<code_0>", "<code_1>", "<bin_0>", "<bin_1>"));
        Tokenizer t = new Tokenizer(v);
        int bin1 = v.indexOfSymbol("<bin_1>");
        assertEquals(10, bin1);
        assertEquals("Hello<bin_1> world<mask>", t.decode(new int[] {4, bin1, 5, v.indexOfSymbol("<mask>")}));
        for (int i = 0; i < v.size() + 3; i++) {
            assertTrue(t.decode(new int[] {i}) != null, "index " + i + " decodes");
        }
        java.util.BitSet text = t.textTokens(v.size() + 2);
        assertEquals(java.util.BitSet.valueOf(new long[] {(1L << 3) | (1L << 4) | (1L << 5)}), text,
                "unk and the two BPE entries; no specials, symbols or rows past the dictionary");
    }

    @Test
    void encodeDoesNotNormalise() throws IOException {
        Tokenizer t = new Tokenizer(dictOf(15496));
        assertArrayEquals(new int[] {4}, t.encode("Hello"));
        assertArrayEquals(new int[] {Vocabulary.UNK}, t.encode("hello"));
    }

    @Test
    void normalizeFollowsOfaPreCaption() {
        assertEquals("a dog", Tokenizer.normalize("A Dog"));
        assertEquals("what is this?", Tokenizer.normalize("...?What is this?"));
        assertEquals("a man", Tokenizer.normalize(",.!?*#:;~a man"));
        // Only leading punctuation is stripped, and only from that set.
        assertEquals("(hi) there!", Tokenizer.normalize("(hi) there!"));
        assertEquals("t shirt and jeans", Tokenizer.normalize("T-shirt/and-jeans"));
        assertEquals("a b c", Tokenizer.normalize("  a \t\n b    c  "));
        // A leading hyphen is not in the strip set but becomes a space that is then trimmed.
        assertEquals("x", Tokenizer.normalize("-x"));
        assertEquals("", Tokenizer.normalize(".,  "));
        // As in Python's lstrip, stripping stops at the first character outside the set: a space.
        assertEquals(".,", Tokenizer.normalize(" .,  "));
    }

    @Test
    void isUsableFromManyThreads() {
        Tokenizer t = new Tokenizer(Vocabulary.fromCorpus(List.of("a man riding a wave"), 100));
        int[] expected = t.encode(" a man riding a wave");
        assertTrue(IntStream.range(0, 64).parallel()
                .allMatch(i -> Arrays.equals(expected, t.encode(" a man riding a wave"))));
    }

    @Test
    void preCaptionIsOfasPreCaptionExactly() {
        // Expected values are what OFA's pre_caption (data/ofa_dataset.py) returns in Python 3.11 (checked).
        assertEquals(",.a dog", Tokenizer.preCaption("  ,.A Dog  ", 0), "leading spaces stop the punctuation strip");
        assertEquals("a dog", Tokenizer.preCaption(",.A Dog", 0));
        assertEquals("a\tdog and cat", Tokenizer.preCaption("A\tDog  and \n cat", 0), "a single tab stays");
        assertEquals("a\ndog", Tokenizer.preCaption("a\ndog\n\n", 0), "single newline stays, trailing ones go");
        assertEquals("t shirt and person", Tokenizer.preCaption("T-shirt/and <person>", 0));
        assertEquals("t shirt and <person>", Tokenizer.preQuestion("T-shirt/and <person>", 0));
        assertEquals("a b", Tokenizer.preCaption("a\u3000\u3000b", 0), "Python's \\s covers Unicode spaces");
        assertEquals("a b", Tokenizer.preCaption("a\u001c\u001fb", 0), "and the ASCII separators");
        assertEquals("one two three", Tokenizer.preCaption("one two three four five", 3));
        assertEquals("one two", Tokenizer.preCaption("one two", 3));
        // Where mue's own normalisation departs: every run, and no word limit.
        assertEquals("a dog and cat", Tokenizer.normalize("A\tDog  and \n cat"));
        assertEquals("one two three four five", Tokenizer.normalize("one two three four five"));
        assertThrows(IllegalArgumentException.class, () -> Tokenizer.preCaption("x", -1));
    }
}
