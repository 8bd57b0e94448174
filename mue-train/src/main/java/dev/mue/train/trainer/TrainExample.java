package dev.mue.train.trainer;

import dev.mue.api.text.Vocabulary;
import java.util.Arrays;
import java.util.List;

/**
 * One teacher-forced training example.
 *
 * @param image          preprocessed pixels {@code [3, S, S]} (see {@code ImagePreprocessor})
 * @param encoderTokens  the encoder's text, bos and eos included
 * @param decoderInput   the decoder input (starts with bos)
 * @param targets        the token each decoder position must predict, same length as the input
 * @param firstCounted   positions before this one do not count in the loss
 * @param allowed        per counted position, the tokens the softmax is restricted to, or null
 *                       for the whole vocabulary at every position
 * @param labelSmoothing label smoothing epsilon (0.1 for captioning, 0 for entailment)
 */
public record TrainExample(float[] image, int[] encoderTokens, int[] decoderInput, int[] targets, int firstCounted,
        int[][] allowed, double labelSmoothing) {

    /** Label smoothing of captioning (OFA's caption stage 1). */
    public static final double CAPTION_SMOOTHING = 0.1;

    /** Checks that the arrays agree with each other. */
    public TrainExample {
        if (decoderInput.length != targets.length || decoderInput.length == 0) {
            throw new IllegalArgumentException("decoder input and targets must have the same, non-zero length");
        }
        if (firstCounted < 0 || firstCounted >= targets.length) {
            throw new IllegalArgumentException("firstCounted " + firstCounted + " outside [0, " + targets.length + ")");
        }
        if (allowed != null && allowed.length != targets.length - firstCounted) {
            throw new IllegalArgumentException("one allowed set per counted position is needed");
        }
    }

    /**
     * Captioning: decoder input bos + caption, targets caption + eos, every position counts, label
     * smoothing 0.1.
     *
     * @param promptTokens the caption prompt with bos and eos
     * @param caption      the caption's tokens without specials
     */
    public static TrainExample caption(float[] image, int[] promptTokens, int[] caption) {
        int[] in = new int[caption.length + 1];
        in[0] = Vocabulary.BOS;
        System.arraycopy(caption, 0, in, 1, caption.length);
        int[] tg = Arrays.copyOf(caption, caption.length + 1);
        tg[caption.length] = Vocabulary.EOS;
        return new TrainExample(image, promptTokens, in, tg, 0, null, CAPTION_SMOOTHING);
    }

    /**
     * Visual entailment as OFA trains it: decoder input bos + prompt (without its bos and eos) +
     * answer; only the answer positions and the eos after them count, each with its logits
     * restricted to the tokens that continue some candidate answer (eos where a candidate ends);
     * no label smoothing.
     *
     * @param promptTokens the entailment prompt with bos and eos
     * @param answers      every candidate answer's tokens (e.g. " yes", " no", " maybe")
     * @param answer       index of the right answer in {@code answers}
     */
    public static TrainExample entailment(float[] image, int[] promptTokens, List<int[]> answers, int answer) {
        int[] ans = answers.get(answer);
        int p = promptTokens.length;
        int[] in = new int[1 + (p - 2) + ans.length];
        in[0] = Vocabulary.BOS;
        System.arraycopy(promptTokens, 1, in, 1, p - 2);
        System.arraycopy(ans, 0, in, p - 1, ans.length);
        int[] tg = new int[in.length];
        System.arraycopy(in, 1, tg, 0, in.length - 1);
        tg[in.length - 1] = Vocabulary.EOS;
        int first = p - 2; // the last prompt token predicts the answer's first token
        int[][] allowed = new int[ans.length + 1][];
        for (int j = 0; j <= ans.length; j++) {
            // tokens that follow the answer's first j tokens in some candidate (eos where one ends)
            final int prefix = j;
            allowed[j] = answers.stream().filter(a -> a.length >= prefix
                    && Arrays.equals(a, 0, prefix, ans, 0, prefix))
                    .mapToInt(a -> a.length == prefix ? Vocabulary.EOS : a[prefix]).distinct().sorted().toArray();
        }
        return new TrainExample(image, promptTokens, in, tg, first, allowed, 0.0);
    }
}
