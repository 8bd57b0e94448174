package dev.mue.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.mue.api.ModelFormatException;
import dev.mue.api.text.Vocabulary;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** A fairseq {@code dict.txt}: read, then every index answered and the written form read back the same. */
class DictionaryFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void readsOrRefuses(byte[] data) {
        Vocabulary v;
        try {
            v = Vocabulary.read(new ByteArrayInputStream(data), "fuzz/dict.txt");
        } catch (ModelFormatException expected) {
            return;
        }
        for (int i = 0; i < v.size(); i++) {
            v.symbol(i);
            v.bpeOf(i);
        }
        Path out = Scratch.file("dict.txt", new byte[0]);
        try {
            v.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!Vocabulary.read(out).equals(v)) {
            throw new AssertionError("dictionary does not round-trip");
        }
    }
}
