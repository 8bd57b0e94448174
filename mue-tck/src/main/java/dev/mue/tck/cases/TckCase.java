package dev.mue.tck.cases;

import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.text.Vocabulary;
import dev.mue.planner.Planner;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One conformance case: a seeded random model, an exit policy (thresholds already placed),
 * seeded inputs, and what to run: the encoder always, generation when {@link #decoding()} is set,
 * visual-entailment style scoring when {@link #answers()} is set.
 *
 * <p>Everything is derived from the fields, so the case (and its golden file) is fully described
 * by them: the same fields always give the same model and inputs.
 *
 * @param name        unique, file-name safe
 * @param description what the case exercises
 * @param model       the random model's config, seed and weight scale
 * @param shapes      the plan's limits
 * @param policy      the exit policy, thresholds final
 * @param inputs      one entry per example of the batch
 * @param decoding    beam search settings, or null for no generation
 * @param answers     candidate answers to score after each example's prompt, or null for no scoring
 */
public record TckCase(String name, String description, ModelSpec model, PlanShapes shapes, ExitPolicy policy,
        List<InputSpec> inputs, DecodingOptions decoding, List<int[]> answers) {

    /**
     * A seeded random model.
     *
     * @param config the architecture
     * @param seed   the weight seed
     * @param std    the standard deviation of matrices and embeddings
     */
    public record ModelSpec(ModelConfig config, long seed, double std) {
    }

    /**
     * A seeded example: an image in [-1, 1] and {@code bos + textLength random tokens + eos}.
     *
     * @param seed       the seed of both
     * @param textLength real text tokens between bos and eos (0 or more)
     */
    public record InputSpec(long seed, int textLength) {
    }

    /**
     * A scoring request: rows of {@code bos + prompt + answer}, each scored from its last prompt
     * position (as the session does for visual entailment).
     *
     * @param exampleOfRow per row, its example
     * @param sequences    per row, the decoder input
     * @param firstScored  per row, the first position whose logits are returned
     * @param threshold    the fixed decoder threshold (the schedule's theta)
     */
    public record Scoring(int[] exampleOfRow, int[][] sequences, int[] firstScored, double threshold) {
        /** The rows of example {@code e}, re-indexed as example 0 (for a single-example run). */
        public Scoring onlyExample(int e) {
            List<Integer> rows = rowsOf(e);
            int[][] seqs = new int[rows.size()][];
            int[] first = new int[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                seqs[i] = sequences[rows.get(i)];
                first[i] = firstScored[rows.get(i)];
            }
            return new Scoring(new int[rows.size()], seqs, first, threshold);
        }

        /** The row indices of example {@code e}. */
        public List<Integer> rowsOf(int e) {
            List<Integer> rows = new ArrayList<>();
            for (int r = 0; r < exampleOfRow.length; r++) {
                if (exampleOfRow[r] == e) {
                    rows.add(r);
                }
            }
            return rows;
        }
    }

    /** Copies the lists. */
    public TckCase {
        inputs = List.copyOf(inputs);
        answers = answers == null ? null : List.copyOf(answers);
    }

    /** The model (weights generated once per spec and shared). */
    public Model buildModel() {
        return TckModels.model(model);
    }

    /** The plan for {@link #policy()}. */
    public Plan plan() {
        return Planner.compile(buildModel(), policy, shapes);
    }

    /** The same case under another policy (used while placing thresholds). */
    public TckCase withPolicy(ExitPolicy p) {
        return new TckCase(name, description, model, shapes, p, inputs, decoding, answers);
    }

    /** Number of examples in the batch. */
    public int batchSize() {
        return inputs.size();
    }

    /** Whether the case generates with beam search. */
    public boolean generates() {
        return decoding != null;
    }

    /** Whether the case scores candidate answers. */
    public boolean scores() {
        return answers != null;
    }

    /** The encoder inputs. */
    public List<EncoderInput> encoderInputs() {
        List<EncoderInput> out = new ArrayList<>();
        for (InputSpec in : inputs) {
            out.add(input(model.config(), in));
        }
        return out;
    }

    /** One seeded encoder input. */
    public static EncoderInput input(ModelConfig c, InputSpec in) {
        SplittableRandom r = new SplittableRandom(in.seed);
        float[] img = new float[3 * c.imageSize() * c.imageSize()];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) (2 * r.nextDouble() - 1);
        }
        int[] toks = new int[in.textLength + 2];
        toks[0] = Vocabulary.BOS;
        for (int i = 1; i <= in.textLength; i++) {
            toks[i] = Vocabulary.SPECIALS + r.nextInt(c.vocabSize() - Vocabulary.SPECIALS);
        }
        toks[in.textLength + 1] = Vocabulary.EOS;
        return new EncoderInput(img, toks);
    }

    /** The scoring request, or null when the case does not score. */
    public Scoring scoring() {
        if (answers == null) {
            return null;
        }
        List<EncoderInput> enc = encoderInputs();
        int k = answers.size();
        int n = enc.size();
        int[] ex = new int[n * k];
        int[][] seqs = new int[n * k][];
        int[] first = new int[n * k];
        for (int i = 0; i < n; i++) {
            int[] p = enc.get(i).tokens();
            for (int a = 0; a < k; a++) {
                int[] ans = answers.get(a);
                int r = i * k + a;
                ex[r] = i;
                int[] s = new int[1 + (p.length - 2) + ans.length];
                s[0] = Vocabulary.BOS;
                System.arraycopy(p, 1, s, 1, p.length - 2);
                System.arraycopy(ans, 0, s, p.length - 1, ans.length);
                seqs[r] = s;
                first[r] = p.length - 2;
            }
        }
        return new Scoring(ex, seqs, first, policy.decoderSchedule().theta());
    }

    @Override
    public String toString() {
        return name;
    }
}
