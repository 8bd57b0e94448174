package dev.mue.train.calibrate;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Learn-then-Test with fixed-sequence testing (Angelopoulos, Bates, Candès, Jordan, Lei, "Learn
 * then Test: calibrating predictive algorithms to achieve risk control", 2021, §4): the candidates
 * are put on a 1-D path from conservative to aggressive using one part of the calibration data
 * ({@link #path}); on the other, disjoint part, each is tested in path order and testing stops at
 * the first whose p-value exceeds epsilon ({@link #fixedSequence}). The certified candidate is the
 * last one accepted: since each hypothesis is tested at level epsilon only when every earlier one
 * was rejected, the chance that any accepted candidate has risk above delta is at most epsilon.
 *
 * <p>Candidates are indices {@code 0..m-1}; what they stand for is the caller's.
 */
public final class LearnThenTest {
    private LearnThenTest() {
    }

    /**
     * One tested candidate.
     *
     * @param candidate its index
     * @param pathRisk  its mean loss on the path part
     * @param testRisk  its mean loss on the test part
     * @param pValue    the p-value of "risk > delta" on the test part
     * @param accepted  whether the null was rejected (p-value at most epsilon)
     */
    public record Step(int candidate, double pathRisk, double testRisk, double pValue, boolean accepted) {
    }

    /**
     * The result of a fixed-sequence test.
     *
     * @param path     the candidate order tested, conservative first
     * @param pathRisk each path candidate's mean loss on the path part, in path order
     * @param tested   the steps run, in order; only the last may be not accepted (testing stops there)
     * @param chosen   the last accepted candidate, or -1 when the first step already failed
     */
    public record Outcome(List<Integer> path, List<Double> pathRisk, List<Step> tested, int chosen) {
        /** Whether a candidate was certified. */
        public boolean certified() {
            return chosen >= 0;
        }

        /** The step of the chosen candidate. */
        public Step chosenStep() {
            if (!certified()) {
                throw new IllegalStateException("nothing was certified");
            }
            return tested.stream().filter(s -> s.candidate() == chosen).findFirst().orElseThrow();
        }
    }

    /**
     * The path: the candidates not dominated on the path part (no other has lower or equal risk
     * and higher or equal saving, one of them strictly), in increasing risk and so increasing
     * saving. Dominated candidates are left off: certifying one would never be preferred, and
     * every extra hypothesis on the path is one more chance for testing to stop early. Ties (same
     * risk and saving) keep the lower index.
     *
     * @param pathRisk mean loss of each candidate on the path part
     * @param saving   expected saving of each candidate on the path part (higher is more aggressive)
     */
    public static List<Integer> path(double[] pathRisk, double[] saving) {
        if (pathRisk.length != saving.length) {
            throw new IllegalArgumentException("one risk and one saving per candidate: " + pathRisk.length + " and "
                    + saving.length);
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < pathRisk.length; i++) {
            order.add(i);
        }
        order.sort(Comparator.<Integer>comparingDouble(i -> pathRisk[i]).thenComparingDouble(i -> -saving[i])
                .thenComparingInt(i -> i));
        List<Integer> front = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (int i : order) {
            // in increasing risk, a candidate is on the front iff it saves more than all before it
            if (saving[i] > best) {
                front.add(i);
                best = saving[i];
            }
        }
        return front;
    }

    /**
     * Tests "risk > delta" for each candidate along {@code path} and stops at the first whose
     * p-value exceeds {@code epsilon}.
     *
     * @param path       candidate order, conservative first (from {@link #path})
     * @param pathRisk   each candidate's mean loss on the path part (recorded, not tested)
     * @param testLosses the test part's per-example losses of a candidate; called only for the
     *                   candidates actually tested, in path order, so a caller may compute them lazily
     * @param delta      the risk bound
     * @param epsilon    the family-wise error level
     * @param method     the p-value
     */
    public static Outcome fixedSequence(List<Integer> path, double[] pathRisk, IntFunction<double[]> testLosses,
            double delta, double epsilon, PValueMethod method) {
        if (!(delta > 0 && delta < 1) || !(epsilon > 0 && epsilon < 1)) {
            throw new IllegalArgumentException("delta and epsilon must be in (0, 1), got " + delta + " and " + epsilon);
        }
        List<Step> steps = new ArrayList<>();
        int chosen = -1;
        for (int c : path) {
            double[] losses = testLosses.apply(c);
            double p = method.pValue(losses, delta);
            double risk = mean(losses);
            boolean accepted = p <= epsilon;
            steps.add(new Step(c, pathRisk[c], risk, p, accepted));
            if (!accepted) {
                break;
            }
            chosen = c;
        }
        return new Outcome(List.copyOf(path), path.stream().map(c -> pathRisk[c]).toList(), List.copyOf(steps), chosen);
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }
}
