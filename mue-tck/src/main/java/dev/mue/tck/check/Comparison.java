package dev.mue.tck.check;

import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.session.decode.BeamSearch;
import dev.mue.tck.cases.TckCase;
import dev.mue.tck.reference.RecordingStepper;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Compares two runs of one case under the rules of {@link Tolerances}; the reference's run of the
 * case supplies the margins that decide which decisions must agree and the scale of every vector.
 *
 * <p>Checks, in order: encoder exits (streams, token counts, gate by gate: layer, threshold,
 * similarity, decision) and outputs; the replayed decoder steps row by row (gates, exit layer,
 * logits), following rows through reorders; the freely searched hypotheses (tokens, score, exit
 * layers per step; a difference excused only after a near-tie or close call in the reference's
 * search); the scoring pass (gates, exit layer, logits per row and position); and, within one
 * run, every example of a batch against the same example run alone.
 */
public final class Comparison {
    private final ReferenceRun ref;
    private final TckCase c;
    private final double tol;
    private final Report report = new Report();
    private final int minLayer;

    private Comparison(ReferenceRun ref, double tol) {
        this.ref = ref;
        this.c = ref.run().tckCase();
        this.tol = tol;
        this.minLayer = c.policy().minExitLayer();
    }

    /**
     * Compares run {@code b} with run {@code a} (either may be the reference itself).
     *
     * @param tol the vector tolerance: {@link Tolerances#VECTOR} when one side is the reference
     */
    public static Report compare(ReferenceRun ref, CaseRun a, CaseRun b, double tol) {
        Comparison cmp = new Comparison(ref, tol);
        cmp.runs(a, b);
        return cmp.report;
    }

    /** Compares every example of {@code run}'s batch with the same example run alone. */
    public static Report batchVsSingles(ReferenceRun ref, CaseRun run, double tol) {
        Comparison cmp = new Comparison(ref, tol);
        cmp.singles(run);
        return cmp.report;
    }

    private String label(CaseRun a, CaseRun b) {
        return a.backend() + " vs " + b.backend();
    }

    private void runs(CaseRun a, CaseRun b) {
        int n = c.batchSize();
        String who = label(a, b);
        if (a.encoded().size() != n || b.encoded().size() != n) {
            report.problem(who + ": encoded " + a.encoded().size() + " and " + b.encoded().size() + " examples of " + n);
            return;
        }
        boolean[] diverged = new boolean[n];
        for (int e = 0; e < n; e++) {
            diverged[e] = encoder("example " + e, ref.run().encoded().get(e), a.encoded().get(e), b.encoded().get(e));
        }
        if (c.generates()) {
            boolean[] flipped = replay(a, b, diverged);
            for (int e = 0; e < n; e++) {
                if (!diverged[e] && !flipped[e]) {
                    hypothesis("example " + e + " beam search", e, ref.run().hypotheses().get(e), a.hypotheses().get(e),
                            b.hypotheses().get(e));
                }
            }
        }
        if (c.scores()) {
            scoring(ref.run().scoring(), a.scoring(), b.scoring(), diverged, c.scoring(), "");
        }
    }

    private void singles(CaseRun run) {
        int n = c.batchSize();
        if (n < 2) {
            return;
        }
        String who = run.backend() + " batch vs single";
        for (int e = 0; e < n; e++) {
            CaseRun.Single one = run.singles().get(e);
            String where = who + ", example " + e;
            boolean div = encoder(where, ref.run().encoded().get(e), run.encoded().get(e), one.encoded());
            if (div) {
                continue;
            }
            if (c.generates()) {
                hypothesis(where + " beam search", e, ref.run().hypotheses().get(e), run.hypotheses().get(e),
                        one.hypothesis());
            }
            if (c.scores()) {
                TckCase.Scoring all = c.scoring();
                List<Integer> rows = all.rowsOf(e);
                double[][][] refRows = pick(ref.run().scoring().logits(), rows);
                double[][][] batchRows = pick(run.scoring().logits(), rows);
                String w = where + " scoring";
                boolean d = gates(w, ref.run().scoring().gates().get(e), run.scoring().gates().get(e),
                        one.scoring().gates().get(0));
                if (!d && run.scoring().exitLayer()[e] != one.scoring().exitLayer()[0]) {
                    report.problem(w + ": exit layer " + run.scoring().exitLayer()[e] + " in the batch, "
                            + one.scoring().exitLayer()[0] + " alone");
                    d = true;
                }
                if (!d) {
                    logits(w, refRows, batchRows, one.scoring().logits(), rows);
                }
            }
        }
    }

    private static double[][][] pick(double[][][] all, List<Integer> rows) {
        double[][][] out = new double[rows.size()][][];
        for (int i = 0; i < rows.size(); i++) {
            out[i] = all[rows.get(i)];
        }
        return out;
    }

    // ------------------------------------------------------------------ gates

    /**
     * Compares two gate lists; returns true when the runs diverged there (a decision went
     * differently), after which nothing downstream is comparable.
     */
    private boolean gates(String where, List<GateRecord> refGates, List<GateRecord> a, List<GateRecord> b) {
        int n = Math.max(a.size(), b.size());
        for (int k = 0; k < n; k++) {
            if (k >= a.size() || k >= b.size()) {
                report.problem(where + ": " + a.size() + " gates vs " + b.size() + " (layers "
                        + a.stream().map(GateRecord::layer).toList() + " vs " + b.stream().map(GateRecord::layer).toList()
                        + ") without a differing decision before");
                return true;
            }
            GateRecord ga = a.get(k);
            GateRecord gb = b.get(k);
            String w = where + " gate after layer " + ga.layer();
            if (ga.layer() != gb.layer() || ga.stream() != gb.stream()) {
                report.problem(where + ": gate " + k + " is " + ga.stream() + " layer " + ga.layer() + " vs "
                        + gb.stream() + " layer " + gb.layer());
                return true;
            }
            if (Math.abs(ga.threshold() - gb.threshold()) > Tolerances.THRESHOLD) {
                report.problem(w + ": threshold " + ga.threshold() + " vs " + gb.threshold());
            }
            double ds = Math.abs(ga.similarity() - gb.similarity());
            report.similarityError(ds);
            if (!(ds <= Tolerances.SIMILARITY)) {
                report.problem(String.format(Locale.ROOT, "%s: similarity %.9f vs %.9f (|d| %.2g > %.0g)", w,
                        ga.similarity(), gb.similarity(), ds, Tolerances.SIMILARITY));
            }
            boolean enabled = ga.layer() >= minLayer;
            if (!enabled) {
                if (ga.exit() || gb.exit()) {
                    report.problem(w + ": exits below the minimum exit layer " + minLayer);
                    return true;
                }
                continue;
            }
            GateRecord gr = refGates != null && k < refGates.size() && refGates.get(k).layer() == ga.layer()
                    ? refGates.get(k) : null;
            double margin = gr != null ? Math.abs(gr.similarity() - gr.threshold())
                    : Math.min(Math.abs(ga.similarity() - ga.threshold()), Math.abs(gb.similarity() - gb.threshold()));
            if (margin < Tolerances.CLOSE_CALL) {
                report.closeCall(ga.exit() != gb.exit());
                if (ga.exit() != gb.exit()) {
                    return true;
                }
            } else {
                report.decision();
                if (ga.exit() != gb.exit()) {
                    report.problem(String.format(Locale.ROOT, "%s: exit %s vs %s (similarity %.9f vs %.9f, threshold %.9f, "
                            + "reference margin %.2g)", w, ga.exit(), gb.exit(), ga.similarity(), gb.similarity(),
                            ga.threshold(), margin));
                    return true;
                }
            }
            if (ga.exit()) {
                if (k + 1 != n) {
                    report.problem(where + ": gates recorded after the exit at layer " + ga.layer());
                    return true;
                }
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ encoder

    private boolean encoder(String where, CaseRun.Example r, CaseRun.Example a, CaseRun.Example b) {
        if (a.exits().size() != b.exits().size()) {
            report.problem(where + ": " + a.exits().size() + " encoder streams vs " + b.exits().size());
            return true;
        }
        boolean diverged = false;
        for (int s = 0; s < a.exits().size(); s++) {
            EncoderExit ea = a.exits().get(s);
            EncoderExit eb = b.exits().get(s);
            EncoderExit er = s < r.exits().size() ? r.exits().get(s) : null;
            String w = where + " " + ea.stream().label() + " stream";
            if (ea.stream() != eb.stream()) {
                report.problem(where + ": stream " + s + " is " + ea.stream() + " vs " + eb.stream());
                return true;
            }
            if (er != null && er.stream() != ea.stream()) {
                report.problem(where + ": stream " + s + " is " + ea.stream() + ", the reference's is " + er.stream());
                return true;
            }
            if (ea.tokens() != eb.tokens()) {
                report.problem(w + ": " + ea.tokens() + " tokens vs " + eb.tokens());
            }
            boolean d = gates(w, er == null ? null : er.gates(), ea.gates(), eb.gates());
            if (!d && ea.exitLayer() != eb.exitLayer()) {
                report.problem(w + ": exit layer " + ea.exitLayer() + " vs " + eb.exitLayer() + " with the same gates");
                d = true;
            }
            diverged |= d;
        }
        if (a.outputTokens() != b.outputTokens()) {
            report.problem(where + ": " + a.outputTokens() + " output tokens vs " + b.outputTokens());
            return true;
        }
        if (!diverged) {
            double err = Tolerances.vectorError(a.output(), b.output(), r.output());
            report.encoderError(err);
            if (!(err <= tol)) {
                // a failure, but the decisions agreed: the decoder is still compared, to show how far it spreads
                report.problem(String.format(Locale.ROOT, "%s: encoder output differs, relative error %.3g > %.0g at %s",
                        where, err, tol, worst(a.output(), b.output(), c.model().config().dModel())));
            }
        }
        return diverged;
    }

    private static String worst(double[] a, double[] b, int d) {
        if (a.length != b.length) {
            return "lengths " + a.length + " vs " + b.length;
        }
        int at = 0;
        for (int i = 0; i < a.length; i++) {
            if (!(Math.abs(a[i] - b[i]) <= Math.abs(a[at] - b[at]))) {
                at = i;
            }
        }
        return String.format(Locale.ROOT, "token %d dim %d (%.7g vs %.7g)", at / d, at % d, a[at], b[at]);
    }

    // ------------------------------------------------------------------ decoder

    /** Replays the reference's calls; returns per example whether a close call flipped (tokens may differ later). */
    private boolean[] replay(CaseRun a, CaseRun b, boolean[] encDiverged) {
        boolean[] flipped = new boolean[c.batchSize()];
        List<RecordingStepper.Step> rs = ref.run().steps();
        List<RecordingStepper.Step> as = a.steps();
        List<RecordingStepper.Step> bs = b.steps();
        if (as.size() != rs.size() || bs.size() != rs.size()) {
            report.problem("replayed " + as.size() + " and " + bs.size() + " decoder steps of " + rs.size());
            return flipped;
        }
        boolean[] tainted = null;
        int step = 0;
        for (RecordingStepper.Call call : ref.run().replay()) {
            if (call instanceof RecordingStepper.Reorder ro) {
                boolean[] next = new boolean[ro.parents().length];
                for (int i = 0; i < next.length; i++) {
                    next[i] = tainted[ro.parents()[i]];
                }
                tainted = next;
                continue;
            }
            RecordingStepper.Step sr = rs.get(step);
            RecordingStepper.Step sa = as.get(step);
            RecordingStepper.Step sb = bs.get(step);
            int rows = sr.exitLayer().length;
            if (tainted == null) {
                tainted = new boolean[rows];
                for (int r = 0; r < rows; r++) {
                    tainted[r] = encDiverged[sr.exampleOfRow()[r]];
                }
            }
            if (sa.exitLayer().length != rows || sb.exitLayer().length != rows || sa.logits().length != rows
                    || sb.logits().length != rows || sa.gates().size() != rows || sb.gates().size() != rows) {
                report.problem("decoder step " + step + ": " + sa.exitLayer().length + " and " + sb.exitLayer().length
                        + " rows returned for " + rows);
                return flipped;
            }
            for (int r = 0; r < rows; r++) {
                if (tainted[r]) {
                    continue;
                }
                int e = sr.exampleOfRow()[r];
                String w = String.format(Locale.ROOT, "decoder step %d, row %d (example %d)", step, r, e);
                long before = report.flippedCloseCalls();
                boolean d = gates(w, sr.gates().get(r), sa.gates().get(r), sb.gates().get(r));
                if (report.flippedCloseCalls() > before) {
                    flipped[e] = true;
                }
                if (!d && sa.exitLayer()[r] != sb.exitLayer()[r]) {
                    report.problem(w + ": exit layer " + sa.exitLayer()[r] + " vs " + sb.exitLayer()[r]
                            + " with the same gates");
                    d = true;
                }
                if (!d) {
                    double err = Tolerances.vectorError(sa.logits()[r], sb.logits()[r], sr.logits()[r]);
                    report.logitError(err);
                    if (!(err <= tol)) {
                        report.problem(String.format(Locale.ROOT, "%s: logits differ, relative error %.3g > %.0g "
                                + "(exit layer %d; KV policy %s)", w, err, tol, sa.exitLayer()[r],
                                c.policy().kvPolicy().name().toLowerCase(Locale.ROOT)));
                        d = true;
                    }
                }
                tainted[r] = d;
            }
            step++;
        }
        return flipped;
    }

    private void hypothesis(String where, int e, BeamSearch.Hypothesis r, BeamSearch.Hypothesis a,
            BeamSearch.Hypothesis b) {
        if (a == null || b == null) {
            if (a != b) {
                report.problem(where + ": one side found no hypothesis");
            }
            return;
        }
        int amb = ref.ambiguousFrom(e);
        List<Integer> la = a.steps().stream().map(DecoderStepTrace::exitLayer).toList();
        List<Integer> lb = b.steps().stream().map(DecoderStepTrace::exitLayer).toList();
        double scale = Math.max(1, r == null ? 1 : Math.abs(r.score()));
        boolean sameTokens = Arrays.equals(a.tokens(), b.tokens());
        boolean same = sameTokens && Math.abs(a.score() - b.score()) <= tol * scale && la.equals(lb);
        if (same) {
            return;
        }
        if (amb >= 0) {
            // the reference met a near-tie or a close call at step amb: a different result is excused
            report.tokenTie();
            if (c.decoding().beamSize() == 1) {
                int n = Math.min(amb, Math.min(a.tokens().length, b.tokens().length));
                if (!Arrays.equals(a.tokens(), 0, n, b.tokens(), 0, n)) {
                    report.problem(where + ": tokens " + Arrays.toString(a.tokens()) + " vs " + Arrays.toString(b.tokens())
                            + " differ before step " + amb + ", the reference's first near-tie");
                }
            }
            return;
        }
        if (!sameTokens) {
            report.problem(where + ": tokens " + Arrays.toString(a.tokens()) + " vs " + Arrays.toString(b.tokens())
                    + " (the reference's search had no near-tie: every deciding gap >= " + Tolerances.TOKEN_TIE + ")");
        } else if (!la.equals(lb)) {
            report.problem(where + ": decoder exit layers per step " + la + " vs " + lb);
        } else {
            report.problem(String.format(Locale.ROOT, "%s: score %.9g vs %.9g", where, a.score(), b.score()));
        }
    }

    // ------------------------------------------------------------------ scoring

    private void scoring(CaseRun.Scored r, CaseRun.Scored a, CaseRun.Scored b, boolean[] encDiverged,
            TckCase.Scoring s, String prefix) {
        int n = c.batchSize();
        if (a.exitLayer().length != n || b.exitLayer().length != n || a.logits().length != s.sequences().length
                || b.logits().length != s.sequences().length) {
            report.problem(prefix + "scoring: " + a.exitLayer().length + "/" + b.exitLayer().length + " examples and "
                    + a.logits().length + "/" + b.logits().length + " rows, expected " + n + " and " + s.sequences().length);
            return;
        }
        for (int e = 0; e < n; e++) {
            if (encDiverged[e]) {
                continue;
            }
            String w = prefix + "scoring, example " + e;
            boolean d = gates(w, r.gates().get(e), a.gates().get(e), b.gates().get(e));
            if (!d && a.exitLayer()[e] != b.exitLayer()[e]) {
                report.problem(w + ": exit layer " + a.exitLayer()[e] + " vs " + b.exitLayer()[e] + " with the same gates");
                d = true;
            }
            if (!d) {
                List<Integer> rows = s.rowsOf(e);
                logits(w, pick(r.logits(), rows), pick(a.logits(), rows), pick(b.logits(), rows), rows);
            }
        }
    }

    private void logits(String where, double[][][] r, double[][][] a, double[][][] b, List<Integer> rows) {
        for (int i = 0; i < rows.size(); i++) {
            if (a[i].length != b[i].length || a[i].length != r[i].length) {
                report.problem(where + ", row " + rows.get(i) + ": " + a[i].length + " vs " + b[i].length
                        + " scored positions (reference " + r[i].length + ")");
                continue;
            }
            for (int t = 0; t < a[i].length; t++) {
                double err = Tolerances.vectorError(a[i][t], b[i][t], r[i][t]);
                report.logitError(err);
                if (!(err <= tol)) {
                    report.problem(String.format(Locale.ROOT, "%s, row %d, scored position %d: logits differ, "
                            + "relative error %.3g > %.0g", where, rows.get(i), t, err, tol));
                    break;
                }
            }
        }
    }
}
