package dev.mue.train.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.session.MueSession;
import dev.mue.api.text.Tokenizer;
import dev.mue.api.text.Vocabulary;
import dev.mue.train.data.FashionMnist;
import dev.mue.train.data.GridTasks;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The default model's recipe: its vocabulary, architecture and lazily built examples. */
class GridTrainingTest {

    @Test
    void vocabularyCoversEveryTemplateSentenceAndPrompt() {
        Vocabulary v = GridTraining.vocabulary();
        Tokenizer tok = new Tokenizer(v);
        assertTrue(v.size() < 100, "a task vocabulary of " + v.size());
        for (String s : GridTasks.templateCorpus()) {
            for (int t : tok.encodeWithSpecials(MueSession.entailmentPrompt(s, null))) {
                assertNotEquals(Vocabulary.UNK, t, s);
            }
        }
        for (int t : tok.encodeWithSpecials(MueSession.CAPTION_PROMPT)) {
            assertNotEquals(Vocabulary.UNK, t);
        }
        // a word the tasks never use is unknown, so the corpus really is the tasks'
        assertTrue(java.util.Arrays.stream(tok.encode(" giraffe")).anyMatch(t -> t == Vocabulary.UNK));
        assertEquals(v, GridTraining.vocabulary(), "the vocabulary is a pure function of the templates");
    }

    @Test
    void examplesAreDeterministicInterleavedAndBuiltOnAccess() {
        FashionMnist data = FashionMnist.load();
        GridTraining r = new GridTraining(data.test());
        List<TrainExample> list = r.examples(5, 1_000_000);
        assertEquals(1_000_000, list.size());
        for (int i : new int[] {0, 1, 2, 3, 999_998, 999_999}) {
            TrainExample a = list.get(i);
            TrainExample b = new GridTraining(data.test()).example(5, i);
            assertArrayEquals(a.image(), b.image());
            assertArrayEquals(a.encoderTokens(), b.encoderTokens());
            assertArrayEquals(a.decoderInput(), b.decoderInput());
            assertArrayEquals(a.targets(), b.targets());
            if (i % 2 == 0) {
                assertEquals(TrainExample.CAPTION_SMOOTHING, a.labelSmoothing(), "even: captioning");
                assertEquals(0, a.firstCounted());
            } else {
                assertEquals(0.0, a.labelSmoothing(), "odd: entailment");
                assertTrue(a.allowed() != null && a.firstCounted() > 0);
            }
            assertEquals(3 * 64 * 64, a.image().length);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> list.get(1_000_000));
        // every example of a long stretch fits the folded shapes and tokenises without unknowns
        for (int i = 0; i < 3000; i++) {
            TrainExample e = list.get(i);
            assertTrue(e.encoderTokens().length <= GridTraining.shapes().maxTextTokens());
            assertTrue(e.decoderInput().length <= GridTraining.shapes().maxDecoderTokens());
        }
    }

    @Test
    void architectureIsSixPlusSixLayersOverTheTaskVocabulary() {
        var c = GridTraining.initialModel(1).config();
        assertEquals(GridTraining.CONFIG_NAME, c.name());
        assertEquals(6, c.encoderLayers());
        assertEquals(6, c.decoderLayers());
        assertEquals(GridTraining.vocabulary().size(), c.vocabSize());
        assertEquals(16, c.imageTokens());
    }
}
