package dev.mue.importer.ofa;

import dev.mue.api.text.Vocabulary;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The dictionary OFA's task builds ({@code setup_task} in OFA's {@code tasks/ofa_task.py}): the
 * fairseq {@code dict.txt} (50,260 lines in OFA's release, ending with fairseq's padding words
 * {@code madeupword0000}..{@code 0002}), then {@code <mask>}, {@code <code_0>}..{@code <code_N-1>}
 * for the image codes and {@code <bin_0>}..{@code <bin_M-1>} for the location bins.
 */
public final class OfaDictionary {
    /** OFA's image-code vocabulary ({@code --code-dict-size}). */
    public static final int CODE_DICT_SIZE = 8192;
    /** OFA's location bins ({@code --num-bins}). */
    public static final int NUM_BINS = 1000;

    private OfaDictionary() {
    }

    /**
     * Reads {@code dictTxt} and appends OFA's symbols.
     *
     * @throws dev.mue.api.ModelFormatException if the file is not a fairseq dictionary or already
     *                                          holds one of the appended symbols
     */
    public static Vocabulary build(Path dictTxt, int codes, int bins) {
        Vocabulary base = Vocabulary.read(dictTxt);
        List<String> symbols = new ArrayList<>(1 + codes + bins);
        symbols.add("<mask>");
        for (int i = 0; i < codes; i++) {
            symbols.add("<code_" + i + ">");
        }
        for (int i = 0; i < bins; i++) {
            symbols.add("<bin_" + i + ">");
        }
        try {
            return base.withSymbols(symbols);
        } catch (IllegalArgumentException e) {
            throw new dev.mue.api.ModelFormatException("dictionary " + dictTxt + ": " + e.getMessage()
                    + "; pass OFA's dict.txt itself, before its task appends <mask>, <code_i> and <bin_i>", e);
        }
    }
}
