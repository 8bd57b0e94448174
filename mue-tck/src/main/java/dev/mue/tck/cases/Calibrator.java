package dev.mue.tck.cases;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.tck.reference.RecordingStepper;
import dev.mue.tck.reference.ReferenceBeamSearch;
import dev.mue.tck.reference.ReferenceExecutable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Places a case's thresholds between the reference's own similarities, so that every decision
 * the suite compares has a margin, and exits happen at varied layers.
 *
 * <p>Encoder: the full model's gate similarities are exactly the ones any threshold meets (a
 * stream's gates before its exit do not depend on the threshold), so a threshold in a gap of
 * width {@code 2 * MARGIN} is guaranteed a margin of {@link #MARGIN} on every gate. Decoder: the
 * similarities depend on the threshold (earlier exits change later keys and values), so
 * candidates are derived from a full run (inverting the schedule per step) and each is verified by
 * running the reference with it; the first with margin {@link #MARGIN}, more than one exit layer
 * and (when possible) an early exit followed by a deeper token is taken.
 */
final class Calibrator {
    /** Margin the calibration aims for, ten times the suite's close-call limit. */
    static final double MARGIN = 1e-3;
    private static final int DECODER_TRIES = 8;

    private Calibrator() {
    }

    /** How a template gives a threshold: a fixed value, or a place among the reference's similarities. */
    sealed interface Threshold {
        /** Exactly this value. */
        record At(double value) implements Threshold {
        }

        /** Between the reference's similarities, near this quantile of them. */
        record Between(double quantile) implements Threshold {
        }
    }

    /** The decoder schedule's form; its theta is calibrated or given. */
    enum Schedule {
        FIXED, DECAY, REFERENCE_DECAY;

        DecoderSchedule with(double theta) {
            return switch (this) {
                case FIXED -> new DecoderSchedule.Fixed(theta);
                case DECAY -> new DecoderSchedule.Decay(theta, 0.95, 1.0);
                case REFERENCE_DECAY -> new DecoderSchedule.ReferenceDecay(theta);
            };
        }

        /** The theta at which step {@code t} of {@code n} has threshold {@code s}, or NaN if none. */
        double invert(double s, int t, int n) {
            return switch (this) {
                case FIXED -> s;
                case DECAY -> (s - 0.05 * Math.exp(-1.0 * t / n)) / 0.95;
                case REFERENCE_DECAY -> t < (n + 1) / 3.0 ? Double.NaN : (s - 0.1 * Math.exp(-(t + 1) / (double) (n + 1))) / 0.9;
            };
        }
    }

    /** A case whose thresholds are still to be placed. */
    record Template(TckCase base, Threshold image, Threshold text, Threshold joint, Schedule schedule,
            Threshold decoder) {
    }

    static TckCase calibrate(Template t) {
        ExitPolicy base = t.base.policy();
        ExitPolicy probe = base.toBuilder().imageThreshold(value(t.image, 1.0)).textThreshold(value(t.text, 1.0))
                .jointThreshold(value(t.joint, 1.0)).decoderSchedule(new DecoderSchedule.Fixed(1.0)).build();
        TckCase c = t.base.withPolicy(probe);
        if (t.image instanceof Threshold.Between || t.text instanceof Threshold.Between
                || t.joint instanceof Threshold.Between) {
            List<Double> img = new ArrayList<>();
            List<Double> txt = new ArrayList<>();
            List<Double> joint = new ArrayList<>();
            try (ReferenceExecutable ex = new ReferenceExecutable(c.plan());
                    EncodedBatch enc = ex.encode(c.encoderInputs())) {
                for (int i = 0; i < enc.size(); i++) {
                    for (EncoderExit e : enc.exits(i)) {
                        List<Double> into = e.stream() == Stream.IMAGE ? img : e.stream() == Stream.TEXT ? txt : joint;
                        for (GateRecord g : e.gates()) {
                            if (g.layer() >= base.minExitLayer()) {
                                into.add(g.similarity());
                            }
                        }
                    }
                }
            }
            ExitPolicy.Builder b = probe.toBuilder();
            if (t.image instanceof Threshold.Between q) {
                b.imageThreshold(place(img, q.quantile));
            }
            if (t.text instanceof Threshold.Between q) {
                b.textThreshold(place(txt, q.quantile));
            }
            if (t.joint instanceof Threshold.Between q) {
                b.jointThreshold(place(joint, q.quantile));
            }
            c = c.withPolicy(b.build());
        }
        if (!(t.decoder instanceof Threshold.Between q) || c.model().config().decoderLayers() < 2
                || !(c.generates() || c.scores())) {
            return c.withPolicy(c.policy().toBuilder().decoderSchedule(t.schedule.with(value(t.decoder, 1.0))).build());
        }
        int n = c.generates() ? c.decoding().maxLength() : 1;
        Eval full = evaluate(c);
        List<Double> critical = new ArrayList<>();
        for (Obs o : full.obs) {
            if (o.enabled) {
                double th = o.scoring ? o.sim : t.schedule.invert(o.sim, o.step, n);
                if (th >= -1 && th <= 1) {
                    critical.add(th);
                }
            }
        }
        List<Double> tries = candidates(critical, q.quantile);
        TckCase best = null;
        double bestRank = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < Math.min(DECODER_TRIES, tries.size()); i++) {
            TckCase cand = c.withPolicy(c.policy().toBuilder().decoderSchedule(t.schedule.with(tries.get(i))).build());
            Eval e = evaluate(cand);
            boolean margin = e.minMargin >= MARGIN;
            boolean varied = e.exitLayers.size() > 1;
            double rank = (margin ? 4 : 0) + (varied ? 2 : 0) + (e.kvSensitive ? 1 : 0) + Math.min(e.minMargin, MARGIN);
            if (rank > bestRank) {
                best = cand;
                bestRank = rank;
            }
            if (margin && varied && (e.kvSensitive || !c.generates())) {
                break;
            }
        }
        return best != null ? best : c.withPolicy(c.policy().toBuilder().decoderSchedule(t.schedule.with(1.0)).build());
    }

    private static double value(Threshold t, double otherwise) {
        return t instanceof Threshold.At a ? a.value : otherwise;
    }

    /** A threshold in the gap nearest the quantile among gaps of width at least 2 * MARGIN. */
    static double place(List<Double> sims, double quantile) {
        List<Double> c = candidates(sims, quantile);
        return c.isEmpty() ? 1.0 : c.get(0);
    }

    /** Gap midpoints (rounded to 1e-6), nearest to the quantile first; the widest gap if none is wide enough. */
    static List<Double> candidates(List<Double> values, double quantile) {
        List<Double> v = values.stream().sorted().distinct().toList();
        if (v.size() < 2) {
            return v.isEmpty() ? List.of() : List.of(round(v.get(0) - 0.01));
        }
        double target = v.get((int) Math.round(quantile * (v.size() - 1)));
        List<Double> mids = new ArrayList<>();
        int widest = 0;
        for (int i = 0; i + 1 < v.size(); i++) {
            double gap = v.get(i + 1) - v.get(i);
            if (gap > v.get(widest + 1) - v.get(widest)) {
                widest = i;
            }
            if (gap >= 2 * MARGIN + 2e-6) {
                mids.add(round((v.get(i) + v.get(i + 1)) / 2));
            }
        }
        if (mids.isEmpty()) {
            mids.add(round((v.get(widest) + v.get(widest + 1)) / 2));
        }
        mids.sort(Comparator.comparingDouble(m -> Math.abs(m - target)));
        return mids;
    }

    private static double round(double x) {
        return Math.max(-1, Math.min(1, Math.rint(x * 1e6) / 1e6));
    }

    /** One evaluated decoder gate. */
    private record Obs(double sim, double threshold, int step, boolean enabled, boolean scoring) {
    }

    private record Eval(List<Obs> obs, double minMargin, Set<Integer> exitLayers, boolean kvSensitive) {
    }

    /** Runs the reference's decoder (generation and scoring) under the case's policy. */
    private static Eval evaluate(TckCase c) {
        List<Obs> obs = new ArrayList<>();
        Set<Integer> exits = new HashSet<>();
        boolean kv = false;
        int minLayer = c.policy().minExitLayer();
        try (ReferenceExecutable ex = new ReferenceExecutable(c.plan());
                EncodedBatch enc = ex.encode(c.encoderInputs())) {
            if (c.generates()) {
                int n = c.batchSize();
                int[] rows = IntStream.range(0, n).toArray();
                try (RecordingStepper rec = new RecordingStepper(ex.decoder(enc, rows, c.decoding().maxLength()), rows)) {
                    new ReferenceBeamSearch(c.decoding(), 0).run(rec, n);
                    int[] shallowest = null;
                    int step = 0;
                    for (RecordingStepper.Call call : rec.calls()) {
                        if (call instanceof RecordingStepper.Step s) {
                            if (shallowest == null) {
                                shallowest = new int[s.exitLayer().length];
                                java.util.Arrays.fill(shallowest, Integer.MAX_VALUE);
                            }
                            for (int r = 0; r < s.exitLayer().length; r++) {
                                exits.add(s.exitLayer()[r]);
                                kv |= s.exitLayer()[r] > shallowest[r];
                                shallowest[r] = Math.min(shallowest[r], s.exitLayer()[r]);
                                for (GateRecord g : s.gates().get(r)) {
                                    obs.add(new Obs(g.similarity(), g.threshold(), step, g.layer() >= minLayer, false));
                                }
                            }
                            step++;
                        } else if (call instanceof RecordingStepper.Reorder ro) {
                            int[] next = new int[ro.parents().length];
                            for (int i = 0; i < next.length; i++) {
                                next[i] = shallowest[ro.parents()[i]];
                            }
                            shallowest = next;
                        }
                    }
                }
            }
            if (c.scores()) {
                TckCase.Scoring s = c.scoring();
                ScoringOutput out = ex.score(enc, s.exampleOfRow(), s.sequences(), s.firstScored());
                for (int e = 0; e < out.exitLayer().length; e++) {
                    exits.add(out.exitLayer()[e]);
                    for (GateRecord g : out.gates().get(e)) {
                        obs.add(new Obs(g.similarity(), g.threshold(), 0, g.layer() >= minLayer, true));
                    }
                }
            }
        }
        double min = Double.POSITIVE_INFINITY;
        for (Obs o : obs) {
            if (o.enabled) {
                min = Math.min(min, Math.abs(o.sim - o.threshold));
            }
        }
        return new Eval(obs, min, exits, kv);
    }
}
