package dev.mue.api.text;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import java.nio.charset.StandardCharsets;

/**
 * The GPT-2 byte-level BPE (tiktoken's {@code r50k_base}), the encoding fairseq's {@code gpt2}
 * BPE and therefore OFA use underneath their dictionaries.
 */
final class Gpt2Bpe {
    /** Number of GPT-2 BPE ids: 50,000 merges, 256 byte tokens and {@code <|endoftext|>}. */
    static final int VOCAB_SIZE = 50_257;

    private Gpt2Bpe() {
    }

    // Holder idiom: the 800 KB rank table is parsed on first use, once, by whichever thread gets
    // there first, and class initialisation makes the result safely visible to every other thread.
    // The lazy registry builds only the encoding asked for, not all four that jtokkit ships.
    private static final class Holder {
        static final Encoding R50K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    }

    /**
     * Encodes text to GPT-2 BPE ids. {@code <|endoftext|>} in the text is encoded as ordinary
     * characters, as fairseq's GPT-2 encoder does.
     */
    static int[] encode(String text) {
        return Holder.R50K.encodeOrdinary(text).toArray();
    }

    /** Decodes BPE ids to text; byte sequences that are not valid UTF-8 become U+FFFD, as in GPT-2. */
    static String decode(int[] bpeIds, int from, int to) {
        IntArrayList list = new IntArrayList(to - from);
        for (int i = from; i < to; i++) {
            list.add(bpeIds[i]);
        }
        return new String(Holder.R50K.decodeBytes(list), StandardCharsets.UTF_8);
    }
}
