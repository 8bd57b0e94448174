package dev.mue.api.text;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.ModelFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VocabularyTest {

    @TempDir
    Path dir;

    private Path dict(String content) throws IOException {
        return Files.writeString(dir.resolve("dict.txt"), content, UTF_8);
    }

    @Test
    void readsFairseqDictionaryWithImplicitSpecials() throws IOException {
        // The first lines of OFA's utils/BPE/dict.txt: "13" is "." and "262" is " the".
        Vocabulary v = Vocabulary.read(dict("13 850314\n262 800385\r\n11 800251\n"));
        assertEquals(7, v.size());
        assertEquals(0, Vocabulary.BOS);
        assertEquals(1, Vocabulary.PAD);
        assertEquals(2, Vocabulary.EOS);
        assertEquals(3, Vocabulary.UNK);
        assertEquals(List.of("<s>", "<pad>", "</s>", "<unk>", "13", "262", "11"),
                Stream.iterate(0, i -> i < v.size(), i -> i + 1).map(v::symbol).toList());
        for (int special = 0; special < 4; special++) {
            assertEquals(-1, v.bpeOf(special));
        }
        assertEquals(13, v.bpeOf(4));
        assertEquals(262, v.bpeOf(5));
        assertEquals(11, v.bpeOf(6));
        assertEquals(4, v.indexOfBpe(13));
        assertEquals(6, v.indexOfBpe(11));
        assertEquals(800385, v.count(5));
        assertEquals(Vocabulary.UNK, v.indexOfBpe(995));
        assertEquals(Vocabulary.UNK, v.indexOfBpe(-5));
        assertEquals(Vocabulary.UNK, v.indexOfBpe(50257));
        assertThrows(IndexOutOfBoundsException.class, () -> v.bpeOf(7));
    }

    @Test
    void emptyDictionaryHasOnlySpecials() throws IOException {
        assertEquals(4, Vocabulary.read(dict("")).size());
    }

    @Test
    void writeThenReadRoundTrips() throws IOException {
        Vocabulary v = Vocabulary.read(dict("13 850314\n262 800385\n50256 0\n0 7\n"));
        Path copy = dir.resolve("copy").resolve("dict.txt");
        Files.createDirectories(copy.getParent());
        v.write(copy);
        assertEquals("13 850314\n262 800385\n50256 0\n0 7\n", Files.readString(copy));
        assertEquals(v, Vocabulary.read(copy));
        try (Stream<Path> files = Files.list(copy.getParent())) {
            assertEquals(List.of(copy), files.toList(), "no temporary file may be left behind");
        }
    }

    @Test
    void readsFromAStreamNamingTheSource() {
        Vocabulary v = Vocabulary.read(new ByteArrayInputStream("995 3\n".getBytes(UTF_8)), "jar:dict.txt");
        assertEquals(4, v.indexOfBpe(995));
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Vocabulary.read(new ByteArrayInputStream("995 x\n".getBytes(UTF_8)), "jar:dict.txt"));
        assertTrue(e.getMessage().startsWith("dictionary jar:dict.txt line 1"), e.getMessage());
    }

    @Test
    void fromCorpusKeepsTheMostFrequentIdsTiesBySmallerId() {
        // Encoded with a leading space: " a" = 257, " dog" = 3290, " cat" = 3797, " sat" = 3332.
        Vocabulary v = Vocabulary.fromCorpus(List.of("A dog", "a cat", "a sat", "dog"), 3);
        assertEquals(7, v.size());
        assertEquals(257, v.bpeOf(4));
        assertEquals(3, v.count(4));
        assertEquals(3290, v.bpeOf(5));
        assertEquals(2, v.count(5));
        // " cat" and " sat" both occur once; the smaller id wins the last slot.
        int cat = Gpt2Bpe.encode(" cat")[0];
        int sat = Gpt2Bpe.encode(" sat")[0];
        assertEquals(Math.min(cat, sat), v.bpeOf(6));
        assertEquals(Vocabulary.UNK, v.indexOfBpe(Math.max(cat, sat)));
        assertEquals(4, Vocabulary.fromCorpus(List.of("anything"), 0).size());
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.fromCorpus(List.of(), -1));
    }

    @Test
    void acceptsFairseqPaddingWordsAsNonTextEntries() throws IOException {
        // OFA's utils/BPE/dict.txt ends with fairseq's padding words, count 0.
        Vocabulary v = Vocabulary.read(dict("13 850314\n262 800385\nmadeupword0000 0\nmadeupword0001 0\n"));
        assertEquals(8, v.size());
        assertEquals("madeupword0001", v.symbol(7));
        assertEquals(-1, v.bpeOf(6));
        assertFalse(v.isBpe(6));
        assertTrue(v.isBpe(5));
        assertFalse(v.isBpe(Vocabulary.EOS));
        assertEquals(6, v.indexOfSymbol("madeupword0000"));
        assertEquals(-1, v.indexOfSymbol("<mask>"));
        assertEquals(Vocabulary.UNK, v.indexOfBpe(0), "a word takes no BPE id's place");
        assertLineRejected("madeupword0000 0\n13 5\nmadeupword0000 0\n", 3, "duplicate token madeupword0000 (first on line 1)");
        assertLineRejected("<pad> 0\n", 1, "token '<pad>' is not a GPT-2 BPE id");
        assertLineRejected("madeupword7 0\n", 1, "token 'madeupword7' is not a GPT-2 BPE id");
    }

    @Test
    void withSymbolsAppendsLikeFairseqAddSymbolAndRoundTrips() throws IOException {
        Vocabulary v = Vocabulary.read(dict("13 850314\nmadeupword0000 0\n"))
                .withSymbols(List.of("<mask>", "<code_0>", "<bin_999>"));
        assertEquals(9, v.size());
        assertEquals(6, v.indexOfSymbol("<mask>"));
        assertEquals(8, v.indexOfSymbol("<bin_999>"));
        assertEquals(1, v.count(8));
        Path copy = dir.resolve("copy.txt");
        v.write(copy);
        assertEquals("13 850314\nmadeupword0000 0\n<mask> 1\n<code_0> 1\n<bin_999> 1\n", Files.readString(copy));
        assertEquals(v, Vocabulary.read(copy));
        assertThrows(IllegalArgumentException.class, () -> v.withSymbols(List.of("<mask>")));
        assertThrows(IllegalArgumentException.class, () -> v.withSymbols(List.of("<a>", "<a>")));
        assertThrows(IllegalArgumentException.class, () -> v.withSymbols(List.of("hello")));
        assertThrows(IllegalArgumentException.class, () -> v.withSymbols(List.of("<s>")));
    }

    @Test
    void rejectsLineWithoutTwoFields() throws IOException {
        assertLineRejected("13 5\n262\n", 2, "expected '<bpe id> <count>'");
        assertLineRejected("13 5 #fairseq:overwrite\n", 1, "expected '<bpe id> <count>'");
        assertLineRejected("13 5\n\n262 4\n", 2, "expected '<bpe id> <count>'");
    }

    @Test
    void rejectsNonIntegerToken() throws IOException {
        assertLineRejected("13 5\n262 4\nhello 3\n", 3, "token 'hello' is not a GPT-2 BPE id");
    }

    @Test
    void rejectsNonIntegerCount() throws IOException {
        assertLineRejected("13 5\n262 many\n", 2, "count 'many' is not an integer");
    }

    @Test
    void rejectsNegativeCount() throws IOException {
        assertLineRejected("13 -5\n", 1, "negative count -5");
    }

    @Test
    void rejectsDuplicateToken() throws IOException {
        assertLineRejected("13 5\n262 4\n13 3\n", 3, "duplicate token 13 (first on line 1)");
    }

    @Test
    void rejectsBpeIdOutsideGpt2Range() throws IOException {
        assertLineRejected("13 5\n50257 4\n", 2, "BPE id 50257 is outside 0..50256");
        assertLineRejected("-1 4\n", 1, "BPE id -1 is outside 0..50256");
        assertLineRejected("99999999999999999999 4\n", 1, "is outside 0..50256");
    }

    @Test
    void rejectsMissingFile() {
        Path file = dir.resolve("none.txt");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Vocabulary.read(file));
        assertEquals("dictionary not found: " + file, e.getMessage());
    }

    private void assertLineRejected(String content, int line, String fragment) throws IOException {
        Path file = dict(content);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Vocabulary.read(file));
        String where = "dictionary " + file + " line " + line + ": ";
        assertTrue(e.getMessage().startsWith(where), "expected '" + where + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }
}
