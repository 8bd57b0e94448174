package dev.mue.tck.reference;

import dev.mue.api.DecoderStepTrace;
import dev.mue.api.GateRecord;
import dev.mue.session.decode.BeamSearch;
import dev.mue.session.decode.DecodingOptions;
import dev.mue.session.decode.LogSoftmax;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.StepOutput;
import dev.mue.api.text.Vocabulary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The TCK's own beam search, written from the rules {@link BeamSearch} documents (fairseq's), so
 * that the shared implementation can be checked against an independent one; it also records how
 * close every ranking decision was, which tells the suite where two backends may legitimately
 * choose different tokens.
 *
 * <p>Rules: per example, every live hypothesis proposes all tokens with their summed
 * log-probability (pad and bos banned; eos banned at step 0; only eos from step
 * {@code maxLength}; tokens that would repeat an n-gram banned); candidates are ranked by
 * score, then hypothesis index, then token id, and the first {@code 2 * beam} are kept. In rank
 * order, an eos among the first {@code beam} ranks finishes its hypothesis (score divided by
 * {@code (generated tokens + 1)^lengthPenalty}) while fewer than {@code beam} have finished;
 * other eos and non-finite candidates are dropped; the rest refill the beam. An example is done
 * when {@code beam} hypotheses have finished or none is live; its result is the best finished
 * one (the first on ties).
 */
public final class ReferenceBeamSearch {
    private final DecodingOptions options;
    private final double tieGap;

    /**
     * A search with the given settings.
     *
     * @param tieGap log-probability gap below which two ranked candidates count as tied
     */
    public ReferenceBeamSearch(DecodingOptions options, double tieGap) {
        this.options = options;
        this.tieGap = tieGap;
    }

    /**
     * The search's outcome.
     *
     * @param best          per example, the best finished hypothesis
     * @param firstTieStep  per example, the first step at which two candidates that decide the
     *                      beam were closer than the tie gap, or -1
     * @param minGap        per example, the smallest such gap seen
     */
    public record Result(List<BeamSearch.Hypothesis> best, int[] firstTieStep, double[] minGap) {
    }

    private record Hyp(int[] tokens, double logProb, List<DecoderStepTrace> trace) {
    }

    private record Cand(int hyp, int token, double score) {
    }

    /** Runs the search; the stepper starts with one row per example, in example order. */
    public Result run(DecoderStepper stepper, int examples) {
        int beam = options.beamSize();
        List<List<Hyp>> live = new ArrayList<>();
        List<List<BeamSearch.Hypothesis>> finished = new ArrayList<>();
        for (int e = 0; e < examples; e++) {
            live.add(List.of(new Hyp(new int[] {Vocabulary.BOS}, 0, List.of())));
            finished.add(new ArrayList<>());
        }
        int[] firstTie = new int[examples];
        Arrays.fill(firstTie, -1);
        double[] minGap = new double[examples];
        Arrays.fill(minGap, Double.POSITIVE_INFINITY);
        boolean[] done = new boolean[examples];
        for (int step = 0;; step++) {
            List<Integer> feed = new ArrayList<>();
            for (int e = 0; e < examples; e++) {
                if (!done[e]) {
                    for (Hyp h : live.get(e)) {
                        feed.add(h.tokens[h.tokens.length - 1]);
                    }
                }
            }
            StepOutput out = stepper.step(feed.stream().mapToInt(Integer::intValue).toArray());
            List<Integer> parents = new ArrayList<>();
            int base = 0;
            for (int e = 0; e < examples; e++) {
                if (done[e]) {
                    continue;
                }
                List<Hyp> hyps = live.get(e);
                List<Cand> cands = new ArrayList<>();
                for (int h = 0; h < hyps.size(); h++) {
                    double[] lp = LogSoftmax.apply(out.logits()[base + h]);
                    constrain(lp, hyps.get(h).tokens, step);
                    for (int v = 0; v < lp.length; v++) {
                        if (lp[v] != Double.NEGATIVE_INFINITY) {
                            cands.add(new Cand(h, v, hyps.get(h).logProb + lp[v]));
                        }
                    }
                }
                cands.sort(Comparator.comparingDouble((Cand x) -> -x.score).thenComparingInt(x -> x.hyp)
                        .thenComparingInt(x -> x.token));
                int watched = beam == 1 ? 2 : 2 * beam + 1;
                for (int i = 0; i + 1 < Math.min(watched, cands.size()); i++) {
                    double gap = cands.get(i).score - cands.get(i + 1).score;
                    minGap[e] = Math.min(minGap[e], gap);
                    if (gap < tieGap && firstTie[e] < 0) {
                        firstTie[e] = step;
                    }
                }
                List<Hyp> next = new ArrayList<>();
                for (int rank = 0; rank < Math.min(2 * beam, cands.size()); rank++) {
                    Cand cd = cands.get(rank);
                    Hyp parent = hyps.get(cd.hyp);
                    int row = base + cd.hyp;
                    List<GateRecord> gates = out.gates().get(row);
                    List<DecoderStepTrace> trace = new ArrayList<>(parent.trace);
                    trace.add(new DecoderStepTrace(step, cd.token, out.exitLayer()[row], gates));
                    if (cd.token == Vocabulary.EOS || !Double.isFinite(cd.score)) {
                        if (cd.token == Vocabulary.EOS && rank < beam && finished.get(e).size() < beam) {
                            double norm = Math.pow(parent.tokens.length, options.lengthPenalty());
                            finished.get(e).add(new BeamSearch.Hypothesis(
                                    Arrays.copyOfRange(parent.tokens, 1, parent.tokens.length), cd.score / norm,
                                    List.copyOf(trace)));
                        }
                    } else if (next.size() < beam) {
                        int[] toks = Arrays.copyOf(parent.tokens, parent.tokens.length + 1);
                        toks[toks.length - 1] = cd.token;
                        next.add(new Hyp(toks, cd.score, List.copyOf(trace)));
                        parents.add(row);
                    }
                }
                base += hyps.size();
                if (finished.get(e).size() >= beam || next.isEmpty()) {
                    done[e] = true;
                    // drop this example's continuations: its rows leave the stepper
                    parents.subList(parents.size() - next.size(), parents.size()).clear();
                    live.set(e, List.of());
                } else {
                    live.set(e, next);
                }
            }
            if (parents.isEmpty()) {
                break;
            }
            stepper.reorder(parents.stream().mapToInt(Integer::intValue).toArray());
        }
        List<BeamSearch.Hypothesis> best = new ArrayList<>();
        for (int e = 0; e < examples; e++) {
            BeamSearch.Hypothesis b = null;
            for (BeamSearch.Hypothesis h : finished.get(e)) {
                if (b == null || h.score() > b.score()) {
                    b = h;
                }
            }
            best.add(b);
        }
        return new Result(best, firstTie, minGap);
    }

    private void constrain(double[] lp, int[] tokens, int step) {
        lp[Vocabulary.PAD] = Double.NEGATIVE_INFINITY;
        if (options.banBos()) {
            lp[Vocabulary.BOS] = Double.NEGATIVE_INFINITY;
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
            // the last n-1 tokens followed by x would repeat an n-gram seen earlier (bos included)
            for (int start = 0; start + n <= tokens.length; start++) {
                boolean same = true;
                for (int j = 0; j < n - 1 && same; j++) {
                    same = tokens[start + j] == tokens[tokens.length - (n - 1) + j];
                }
                if (same) {
                    lp[tokens[start + n - 1]] = Double.NEGATIVE_INFINITY;
                }
            }
        }
    }
}
