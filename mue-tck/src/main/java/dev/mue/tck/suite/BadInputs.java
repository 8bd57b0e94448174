package dev.mue.tck.suite;

import dev.mue.api.InvalidInputException;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.tck.cases.TckCase;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Bad inputs every executable must reject with {@link InvalidInputException} (design §8; the
 * image size and text length limits are also in {@link Executable#encode}'s contract), without
 * side effects on what it accepts afterwards.
 */
final class BadInputs {
    private BadInputs() {
    }

    /**
     * One bad input.
     *
     * @param name  what is wrong
     * @param apply feeds it to an executable; must throw {@link InvalidInputException}
     */
    record Check(String name, Consumer<Executable> apply) {
    }

    /** The checks for executables of {@code c}'s plan. */
    static List<Check> checks(TckCase c) {
        ModelConfig m = c.model().config();
        PlanShapes s = c.shapes();
        EncoderInput good = c.encoderInputs().get(0);
        int v = m.vocabSize();
        List<Check> out = new ArrayList<>();
        out.add(new Check("an empty batch", ex -> ex.encode(List.of())));
        out.add(new Check("an image of the wrong size (10 values)",
                ex -> ex.encode(List.of(new EncoderInput(new float[10], good.tokens())))));
        out.add(new Check("an image one row short",
                ex -> ex.encode(List.of(new EncoderInput(new float[good.image().length - m.imageSize()], good.tokens())))));
        int[] longText = new int[s.maxTextTokens() + 1];
        Arrays.fill(longText, 5);
        longText[0] = 0;
        longText[longText.length - 1] = 2;
        out.add(new Check("a text one token over the plan's limit of " + s.maxTextTokens(),
                ex -> ex.encode(List.of(good, new EncoderInput(good.image(), longText)))));
        out.add(new Check("a token id equal to the vocabulary size",
                ex -> ex.encode(List.of(new EncoderInput(good.image(), new int[] {0, v, 2})))));
        out.add(new Check("a negative token id", ex -> ex.encode(List.of(new EncoderInput(good.image(), new int[] {0, -1, 2})))));
        out.add(new Check("a decoder row of an example the batch lacks", ex -> {
            try (EncodedBatch enc = ex.encode(List.of(good))) {
                ex.decoder(enc, new int[] {0, 1}, 16).close();
            }
        }));
        out.add(new Check("a step with fewer tokens than rows", ex -> {
            try (EncodedBatch enc = ex.encode(List.of(good)); DecoderStepper st = ex.decoder(enc, new int[] {0, 0}, 16)) {
                st.step(new int[] {0});
            }
        }));
        out.add(new Check("a step token beyond the vocabulary", ex -> {
            try (EncodedBatch enc = ex.encode(List.of(good)); DecoderStepper st = ex.decoder(enc, new int[] {0}, 16)) {
                st.step(new int[] {v});
            }
        }));
        out.add(new Check("a step past the plan's " + s.maxDecoderTokens() + " decoder positions", ex -> {
            try (EncodedBatch enc = ex.encode(List.of(good)); DecoderStepper st = ex.decoder(enc, new int[] {0}, 16)) {
                for (int t = 0; t < s.maxDecoderTokens(); t++) {
                    try {
                        st.step(new int[] {t == 0 ? 0 : 5});
                    } catch (InvalidInputException e) {
                        throw new AssertionError("step " + t + " of " + s.maxDecoderTokens() + " allowed ones was rejected: "
                                + e.getMessage(), e);
                    }
                }
                st.step(new int[] {5});
            }
        }));
        out.add(new Check("scoring arrays of different lengths", ex -> {
            try (EncodedBatch enc = ex.encode(List.of(good))) {
                ex.score(enc, new int[] {0}, new int[][] {{0, 5}, {0, 6}}, new int[] {0});
            }
        }));
        out.add(new Check("a scoring row of an example the batch lacks", ex -> {
            try (EncodedBatch enc = ex.encode(List.of(good))) {
                ex.score(enc, new int[] {3}, new int[][] {{0, 5}}, new int[] {0});
            }
        }));
        out.add(new Check("a scored sequence over the plan's decoder positions", ex -> {
            int[] seq = new int[s.maxDecoderTokens() + 1];
            Arrays.fill(seq, 5);
            seq[0] = 0;
            try (EncodedBatch enc = ex.encode(List.of(good))) {
                ex.score(enc, new int[] {0}, new int[][] {seq}, new int[] {0});
            }
        }));
        out.add(new Check("a first scored position past the sequence", ex -> {
            try (EncodedBatch enc = ex.encode(List.of(good))) {
                ex.score(enc, new int[] {0}, new int[][] {{0, 5}}, new int[] {2});
            }
        }));
        out.add(new Check("a scored token beyond the vocabulary", ex -> {
            try (EncodedBatch enc = ex.encode(List.of(good))) {
                ex.score(enc, new int[] {0}, new int[][] {{0, v}}, new int[] {0});
            }
        }));
        return out;
    }

    /** Runs a check; returns null when the input was rejected as required, else what happened. */
    static String run(Check check, Executable ex) {
        try {
            check.apply.accept(ex);
            return check.name + " was accepted; expected " + InvalidInputException.class.getSimpleName();
        } catch (InvalidInputException e) {
            return null;
        } catch (AssertionError e) {
            return e.getMessage();
        } catch (RuntimeException | Error e) {
            return check.name + " threw " + e + "; expected " + InvalidInputException.class.getSimpleName();
        }
    }
}
