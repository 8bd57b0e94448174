package dev.mue.session.decode;

import dev.mue.api.DecoderStepTrace;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.StepOutput;
import dev.mue.api.text.Vocabulary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search over a backend's {@link DecoderStepper}, for a batch of examples at once.
 *
 * <p>fairseq's rules: at each step the top {@code 2 * beam} continuations of all live hypotheses
 * are ranked; an eos among the first {@code beam} finishes a hypothesis with score
 * {@code logprob / length^lengthPenalty}; others refill the beam. An example is done when
 * {@code beam} hypotheses have finished; after {@code maxLength} tokens eos is forced. Ties break
 * towards the lower hypothesis index, then the lower token id, so results are deterministic.
 * Each example is searched independently; finished examples' rows are dropped from the stepper.
 */
public final class BeamSearch {
    private final DecodingOptions options;
    /** The tokens generation may emit besides eos, or null for every token. */
    private final java.util.BitSet allowed;

    /** A search with the given settings, over every token. */
    public BeamSearch(DecodingOptions options) {
        this(options, null);
    }

    /**
     * A search that may generate only the tokens in {@code allowed} (plus eos, which ends every
     * hypothesis): e.g. a caption over text entries only ({@code Tokenizer.textTokens}), as OFA's
     * captioning constrains it; null allows every token.
     */
    public BeamSearch(DecodingOptions options, java.util.BitSet allowed) {
        this.options = options;
        this.allowed = allowed == null ? null : (java.util.BitSet) allowed.clone();
    }

    /**
     * A finished hypothesis.
     *
     * @param tokens generated tokens, eos excluded
     * @param score  length-normalised log-probability
     * @param steps  the decoder's exit at every step (eos step included)
     */
    public record Hypothesis(int[] tokens, double score, List<DecoderStepTrace> steps) {
    }

    /** A live hypothesis: tokens so far (bos first), summed log-probability, and its exit history. */
    private record Live(int[] tokens, double logProb, Trail trail) {
    }

    /** A persistent list of step traces, shared between beams that branch from one parent. */
    private record Trail(DecoderStepTrace step, Trail parent) {
        List<DecoderStepTrace> toList() {
            List<DecoderStepTrace> out = new ArrayList<>();
            for (Trail t = this; t != null; t = t.parent) {
                out.add(t.step);
            }
            java.util.Collections.reverse(out);
            return out;
        }
    }

    private record Candidate(int hyp, int token, double logProb) {
    }

    /**
     * Runs the search. The stepper must start with one row per example, in example order, and have
     * been created with the options' maximum length as its horizon (the decoder schedule's N).
     *
     * @return the best hypothesis of every example
     */
    public List<Hypothesis> run(DecoderStepper stepper, int examples) {
        if (stepper.rows() != examples) {
            throw new IllegalArgumentException("stepper has " + stepper.rows() + " rows for " + examples + " examples");
        }
        int beam = options.beamSize();
        List<List<Live>> live = new ArrayList<>();
        List<List<Hypothesis>> finished = new ArrayList<>();
        for (int e = 0; e < examples; e++) {
            live.add(List.of(new Live(new int[] {Vocabulary.BOS}, 0, null)));
            finished.add(new ArrayList<>());
        }
        boolean[] done = new boolean[examples];
        for (int step = 0;; step++) {
            int[] feed = new int[stepper.rows()];
            int r = 0;
            for (int e = 0; e < examples; e++) {
                if (!done[e]) {
                    for (Live h : live.get(e)) {
                        feed[r++] = h.tokens[h.tokens.length - 1];
                    }
                }
            }
            StepOutput out = stepper.step(feed);
            List<Integer> parents = new ArrayList<>();
            r = 0;
            for (int e = 0; e < examples; e++) {
                if (done[e]) {
                    continue;
                }
                List<Live> hyps = live.get(e);
                List<Candidate> cands = new ArrayList<>();
                for (int h = 0; h < hyps.size(); h++) {
                    int row = r + h;
                    double[] lp = LogSoftmax.apply(out.logits()[row]);
                    mask(lp, hyps.get(h).tokens, step);
                    topInto(cands, h, lp, hyps.get(h).logProb, 2 * beam);
                }
                cands.sort(BeamSearch::compare);
                if (cands.size() > 2 * beam) {
                    cands = cands.subList(0, 2 * beam);
                }
                List<Live> next = new ArrayList<>();
                List<Integer> nextParents = new ArrayList<>();
                for (int rank = 0; rank < cands.size(); rank++) {
                    Candidate c = cands.get(rank);
                    Live parent = hyps.get(c.hyp);
                    int row = r + c.hyp;
                    Trail trail = new Trail(new DecoderStepTrace(step, c.token, out.exitLayer()[row],
                            out.gates().get(row)), parent.trail);
                    if (c.token == Vocabulary.EOS || !Double.isFinite(c.logProb)) {
                        if (c.token == Vocabulary.EOS && rank < beam && finished.get(e).size() < beam) {
                            int len = parent.tokens.length; // generated tokens + eos (bos excluded, eos counted)
                            finished.get(e).add(new Hypothesis(Arrays.copyOfRange(parent.tokens, 1, parent.tokens.length),
                                    c.logProb / Math.pow(len, options.lengthPenalty()), trail.toList()));
                        }
                        continue;
                    }
                    if (next.size() < beam) {
                        int[] toks = Arrays.copyOf(parent.tokens, parent.tokens.length + 1);
                        toks[toks.length - 1] = c.token;
                        next.add(new Live(toks, c.logProb, trail));
                        nextParents.add(row);
                    }
                }
                r += hyps.size();
                if (finished.get(e).size() >= beam || next.isEmpty()) {
                    done[e] = true;
                    live.set(e, List.of());
                } else {
                    live.set(e, next);
                    parents.addAll(nextParents);
                }
            }
            if (parents.isEmpty()) {
                break;
            }
            stepper.reorder(parents.stream().mapToInt(Integer::intValue).toArray());
        }
        List<Hypothesis> best = new ArrayList<>();
        for (int e = 0; e < examples; e++) {
            Hypothesis b = null;
            for (Hypothesis h : finished.get(e)) {
                if (b == null || h.score > b.score) {
                    b = h;
                }
            }
            best.add(b);
        }
        return best;
    }

    private static int compare(Candidate a, Candidate b) {
        int c = Double.compare(b.logProb, a.logProb);
        if (c != 0) {
            return c;
        }
        c = Integer.compare(a.hyp, b.hyp);
        return c != 0 ? c : Integer.compare(a.token, b.token);
    }

    private static void topInto(List<Candidate> cands, int hyp, double[] lp, double base, int k) {
        // Partial selection: keep the k best tokens of this hypothesis.
        int[] idx = new int[k];
        double[] val = new double[k];
        int n = 0;
        for (int v = 0; v < lp.length; v++) {
            double s = lp[v];
            if (s == Double.NEGATIVE_INFINITY) {
                continue;
            }
            if (n < k) {
                int i = n++;
                while (i > 0 && val[i - 1] < s) {
                    val[i] = val[i - 1];
                    idx[i] = idx[i - 1];
                    i--;
                }
                val[i] = s;
                idx[i] = v;
            } else if (s > val[k - 1]) {
                int i = k - 1;
                while (i > 0 && val[i - 1] < s) {
                    val[i] = val[i - 1];
                    idx[i] = idx[i - 1];
                    i--;
                }
                val[i] = s;
                idx[i] = v;
            }
        }
        for (int i = 0; i < n; i++) {
            cands.add(new Candidate(hyp, idx[i], base + val[i]));
        }
    }

    /**
     * Applies fairseq's constraints to one hypothesis's log-probabilities in place: pad never,
     * bos never when the options ban it, eos not first and forced at the length limit, no
     * repeated n-gram.
     */
    void mask(double[] lp, int[] tokens, int step) {
        lp[Vocabulary.PAD] = Double.NEGATIVE_INFINITY;
        if (options.banBos()) {
            lp[Vocabulary.BOS] = Double.NEGATIVE_INFINITY;
        }
        if (allowed != null) {
            for (int t = allowed.nextClearBit(0); t < lp.length; t = allowed.nextClearBit(t + 1)) {
                if (t != Vocabulary.EOS) {
                    lp[t] = Double.NEGATIVE_INFINITY;
                }
            }
        }
        if (step == 0) {
            lp[Vocabulary.EOS] = Double.NEGATIVE_INFINITY;
        }
        if (step >= options.maxLength()) {
            double eos = lp[Vocabulary.EOS];
            Arrays.fill(lp, Double.NEGATIVE_INFINITY);
            lp[Vocabulary.EOS] = Double.isFinite(eos) ? eos : 0;
            return;
        }
        int n = options.noRepeatNgram();
        if (n > 0 && tokens.length >= n) {
            // Ban any token that would complete an n-gram already present (fairseq, bos included).
            int prefixStart = tokens.length - (n - 1);
            for (int s = 0; s + n <= tokens.length; s++) {
                boolean match = true;
                for (int j = 0; j < n - 1; j++) {
                    if (tokens[s + j] != tokens[prefixStart + j]) {
                        match = false;
                        break;
                    }
                }
                if (match) {
                    lp[tokens[s + n - 1]] = Double.NEGATIVE_INFINITY;
                }
            }
        }
    }
}
