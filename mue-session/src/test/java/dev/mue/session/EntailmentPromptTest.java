package dev.mue.session;

import dev.mue.api.InvalidInputException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mue.api.model.ModelConfig;
import org.junit.jupiter.api.Test;

/**
 * The SNLI-VE prompt normalises hypothesis and premise per the model's conventions: OFA's
 * {@code pre_caption} with its word limit for imported OFA models, mue's own whitespace rule for
 * mue's bundles (and for the convention-free overload the trainer uses).
 */
class EntailmentPromptTest {

    @Test
    void ofaConventionsUsePreCaptionWithTheWordLimit() {
        ModelConfig.Conventions ofa = new ModelConfig.Conventions(1024, ModelConfig.ImageResize.PIL_BICUBIC,
                ModelConfig.TextNormalization.OFA, 3, false);
        // Words are split on single spaces, as in Python's split(' '): "a<tab>man" is one word.
        assertEquals(" does the image describe \" a\tman rides a \"?",
                MueSession.entailmentPrompt("A\tMan  rides a horse", null, ofa));
        assertEquals(" can image and text1 \" person on a \" imply text2 \" a dog \"?",
                MueSession.entailmentPrompt("a dog", "<person> on a bike today", ofa));
    }

    @Test
    void muesConventionsCollapseEveryRunAndKeepEveryWord() {
        assertEquals(" does the image describe \" a man rides a horse \"?",
                MueSession.entailmentPrompt("A\tMan  rides a horse", null, ModelConfig.Conventions.MUE));
        assertEquals(MueSession.entailmentPrompt("A\tMan  rides a horse", null, ModelConfig.Conventions.MUE),
                MueSession.entailmentPrompt("A\tMan  rides a horse", null));
        assertThrows(InvalidInputException.class, () -> MueSession.entailmentPrompt(" ", null));
    }
}
