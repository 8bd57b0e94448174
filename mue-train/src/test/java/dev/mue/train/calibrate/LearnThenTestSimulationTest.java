package dev.mue.train.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The guarantee, checked by simulation: synthetic per-example losses whose true risk per candidate
 * is known, 1,000 calibration draws each, and the share of draws whose certified candidate has true
 * risk above delta. Learn-then-Test promises at most epsilon; the test allows epsilon plus three
 * Monte-Carlo standard errors, sqrt(epsilon (1 - epsilon) / draws) = 0.0095 at epsilon 0.1, so
 * 0.128. Two deliberately wrong procedures run on the same draws and must break that bound: one
 * returns the first failing candidate instead of the last accepted (a bug seen in public code),
 * one tests every candidate at epsilon and keeps the most aggressive that passes (no family-wise
 * error control). Pure arithmetic: well under a second.
 */
class LearnThenTestSimulationTest {
    private static final int DRAWS = 1000;
    private static final double DELTA = 0.05;
    private static final double EPSILON = 0.1;
    private static final double BOUND = EPSILON + 3 * Math.sqrt(EPSILON * (1 - EPSILON) / DRAWS);
    private static final int PATH_N = 200;
    private static final int TEST_N = 400;

    /** How per-example losses are drawn from a candidate's true risk. */
    private enum Losses {
        /** One uniform per example, loss 1 below the risk: nested across candidates, as exits are. */
        NESTED,
        /** An independent uniform per example and candidate. */
        INDEPENDENT,
        /** Bounded, not binary: {@code min(1, 2 r u)} with one uniform per example (mean r for r <= 0.5). */
        BOUNDED
    }

    private record Rates(double correct, double firstFailing, double noFwer) {
    }

    /** Runs the draws; candidate j's saving is j, so the path runs along increasing j. */
    private static Rates simulate(double[] risk, Losses kind, PValueMethod method, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int m = risk.length;
        int bad = 0;
        int badFirst = 0;
        int badNoFwer = 0;
        double[] saving = new double[m];
        for (int j = 0; j < m; j++) {
            saving[j] = j;
        }
        for (int d = 0; d < DRAWS; d++) {
            double[][] path = draw(risk, kind, PATH_N, rnd);
            double[][] test = draw(risk, kind, TEST_N, rnd);
            double[] pathRisk = new double[m];
            for (int j = 0; j < m; j++) {
                pathRisk[j] = LearnThenTest.mean(path[j]);
            }
            List<Integer> order = LearnThenTest.path(pathRisk, saving);
            LearnThenTest.Outcome o = LearnThenTest.fixedSequence(order, pathRisk, j -> test[j], DELTA, EPSILON, method);
            if (o.certified() && risk[o.chosen()] > DELTA) {
                bad++;
            }
            // wrong 1: the candidate where testing stopped (the first failing), else the last tested
            LearnThenTest.Step last = o.tested().get(o.tested().size() - 1);
            if (risk[last.candidate()] > DELTA) {
                badFirst++;
            }
            // wrong 2: every candidate tested at epsilon, the most aggressive passing one kept
            int best = -1;
            for (int j = 0; j < m; j++) {
                if (method.pValue(test[j], DELTA) <= EPSILON) {
                    best = j;
                }
            }
            if (best >= 0 && risk[best] > DELTA) {
                badNoFwer++;
            }
        }
        return new Rates((double) bad / DRAWS, (double) badFirst / DRAWS, (double) badNoFwer / DRAWS);
    }

    private static double[][] draw(double[] risk, Losses kind, int n, SplittableRandom rnd) {
        double[][] l = new double[risk.length][n];
        for (int i = 0; i < n; i++) {
            double u = rnd.nextDouble();
            for (int j = 0; j < risk.length; j++) {
                l[j][i] = switch (kind) {
                    case NESTED -> u < risk[j] ? 1 : 0;
                    case INDEPENDENT -> rnd.nextDouble() < risk[j] ? 1 : 0;
                    case BOUNDED -> Math.min(1, 2 * risk[j] * u);
                };
            }
        }
        return l;
    }

    @Test
    void smoothRiskCurveCrossingDeltaIsControlled() {
        // risk rises linearly from 0 to 0.07 over 30 candidates and crosses delta = 0.05 between
        // candidates 20 (0.0483) and 21 (0.0507): the hardest case for the bound, since a
        // candidate just above delta passes now and then
        double[] risk = new double[30];
        for (int j = 0; j < risk.length; j++) {
            risk[j] = 0.07 * j / 29;
        }
        Rates r = simulate(risk, Losses.NESTED, PValueMethod.EXACT_BINOMIAL, 1);
        assertTrue(r.correct() <= BOUND, "violations " + r.correct() + " > " + BOUND);
        // the bound is nearly tight here: a procedure that never certified would show 0
        assertTrue(r.correct() > 0.01, "violations " + r.correct() + ": the simulation does not stress the bound");
    }

    @Test
    void returningTheFirstFailingCandidateBreaksTheGuarantee() {
        // ten candidates well below delta, then a cliff: the first failing candidate is the cliff
        double[] risk = new double[20];
        for (int j = 0; j < risk.length; j++) {
            risk[j] = j < 10 ? 0.03 : 0.3;
        }
        Rates r = simulate(risk, Losses.NESTED, PValueMethod.EXACT_BINOMIAL, 2);
        assertTrue(r.correct() <= BOUND, "violations " + r.correct());
        assertTrue(r.firstFailing() > BOUND, "the first-failing variant passed with " + r.firstFailing());
    }

    @Test
    void testingEveryCandidateWithoutFamilyWiseControlBreaksTheGuarantee() {
        // five safe candidates, then forty just above delta with independent noise: each alone
        // passes at level epsilon only rarely, but one of forty nearly always does
        double[] risk = new double[45];
        for (int j = 0; j < risk.length; j++) {
            risk[j] = j < 5 ? 0.02 : 0.055;
        }
        Rates r = simulate(risk, Losses.INDEPENDENT, PValueMethod.EXACT_BINOMIAL, 3);
        assertTrue(r.correct() <= BOUND, "violations " + r.correct());
        assertTrue(r.noFwer() > BOUND, "the variant without family-wise control passed with " + r.noFwer());
    }

    @Test
    void boundedLossesWithHoeffdingBentkusAreControlled() {
        double[] risk = new double[30];
        for (int j = 0; j < risk.length; j++) {
            risk[j] = 0.08 * j / 29;
        }
        Rates r = simulate(risk, Losses.BOUNDED, PValueMethod.HOEFFDING_BENTKUS, 4);
        assertTrue(r.correct() <= BOUND, "violations " + r.correct());
    }

    @Test
    void pathIsTheFrontInIncreasingRiskAndTestingReturnsTheLastAccepted() {
        // candidates: 0 (risk .01, saving 1), 1 (.02, 3), 2 (.02, 2: dominated by 1), 3 (.04, 5), 4 (.03, 0: dominated)
        List<Integer> path = LearnThenTest.path(new double[] {0.01, 0.02, 0.02, 0.04, 0.03}, new double[] {1, 3, 2, 5, 0});
        assertEquals(List.of(0, 1, 3), path);
        double[] none = new double[100];
        double[] many = new double[100];
        java.util.Arrays.fill(many, 0, 30, 1);
        // 0 and 1 pass (no losses), 3 fails (30 of 100 at delta 0.1): the last accepted is 1
        LearnThenTest.Outcome o = LearnThenTest.fixedSequence(path, new double[5], j -> j == 3 ? many : none, 0.1, 0.05,
                PValueMethod.EXACT_BINOMIAL);
        assertEquals(1, o.chosen());
        assertEquals(3, o.tested().size());
        assertTrue(!o.tested().get(2).accepted());
        // the first fails: nothing certified
        LearnThenTest.Outcome fail = LearnThenTest.fixedSequence(path, new double[5], j -> many, 0.1, 0.05,
                PValueMethod.EXACT_BINOMIAL);
        assertEquals(-1, fail.chosen());
        assertEquals(1, fail.tested().size());
    }
}
