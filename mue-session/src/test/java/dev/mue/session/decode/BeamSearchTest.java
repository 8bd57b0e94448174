package dev.mue.session.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.GateRecord;
import dev.mue.api.plan.Stream;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.StepOutput;
import dev.mue.api.text.Vocabulary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BeamSearchTest {
    private static final int V = 9;

    /**
     * A language model over 9 tokens whose logits are a fixed random function of (example, the
     * whole prefix): a stand-in for a backend that keeps the contract (rows independent, reorder
     * re-forms them) so beam search can be checked against exhaustive enumeration.
     */
    private static class TableModel implements DecoderStepper {
        final List<int[]> prefixes = new ArrayList<>();
        final List<Integer> examples = new ArrayList<>();

        TableModel(int examples) {
            for (int e = 0; e < examples; e++) {
                prefixes.add(new int[0]);
                this.examples.add(e);
            }
        }

        static float[] logits(int example, int[] prefix) {
            long seed = example * 1_000_003L + Arrays.hashCode(prefix);
            SplittableRandom r = new SplittableRandom(seed);
            float[] l = new float[V];
            for (int v = 0; v < V; v++) {
                l[v] = (float) (3 * r.nextDouble());
            }
            return l;
        }

        @Override
        public int rows() {
            return prefixes.size();
        }

        @Override
        public StepOutput step(int[] tokens) {
            double threshold = 0.5;
            float[][] out = new float[tokens.length][];
            List<List<GateRecord>> gates = new ArrayList<>();
            int[] exit = new int[tokens.length];
            for (int r = 0; r < tokens.length; r++) {
                int[] p = Arrays.copyOf(prefixes.get(r), prefixes.get(r).length + 1);
                p[p.length - 1] = tokens[r];
                prefixes.set(r, p);
                out[r] = logits(examples.get(r), p);
                exit[r] = 1 + (p.length % 3);
                gates.add(List.of(new GateRecord(Stream.DECODER, 1, 0.5, threshold, exit[r] == 1)));
            }
            return new StepOutput(out, exit, gates);
        }

        @Override
        public void reorder(int[] parents) {
            List<int[]> p = new ArrayList<>();
            List<Integer> e = new ArrayList<>();
            for (int x : parents) {
                p.add(prefixes.get(x).clone());
                e.add(examples.get(x));
            }
            prefixes.clear();
            prefixes.addAll(p);
            examples.clear();
            examples.addAll(e);
        }

        @Override
        public void close() {
        }
    }

    private static double logProb(int example, int[] prefix, int token) {
        double[] lp = LogSoftmax.apply(TableModel.logits(example, prefix));
        return lp[token];
    }

    @Test
    void anAllowListKeepsGenerationToItsTokensAndEos() {
        java.util.BitSet allowed = new java.util.BitSet();
        allowed.set(5);
        allowed.set(7);
        DecodingOptions o = new DecodingOptions(3, 6, 0, 1.0);
        List<BeamSearch.Hypothesis> hs = new BeamSearch(o, allowed).run(new TableModel(2), 2);
        boolean sawBoth = false;
        for (BeamSearch.Hypothesis h : hs) {
            for (int t : h.tokens()) {
                assertTrue(t == 5 || t == 7, "token " + t + " is not allowed: " + Arrays.toString(h.tokens()));
            }
            sawBoth |= h.tokens().length > 0;
        }
        assertTrue(sawBoth, "something was generated");
        // Without the list the same model generates other tokens.
        boolean other = false;
        for (BeamSearch.Hypothesis h : new BeamSearch(o).run(new TableModel(2), 2)) {
            for (int t : h.tokens()) {
                other |= t != 5 && t != 7;
            }
        }
        assertTrue(other, "the unconstrained search is not confined to 5 and 7 by chance");
    }

    /** A model that prefers bos above everything. */
    private static DecoderStepper bosLover() {
        return new TableModel(1) {
            @Override
            public StepOutput step(int[] tokens) {
                StepOutput o = super.step(tokens);
                for (float[] row : o.logits()) {
                    row[Vocabulary.BOS] = 100;
                }
                return o;
            }
        };
    }

    @Test
    void bosIsBannedOnlyWhenTheOptionsSaySo() {
        // OFA's generator (pad masked only) emits it; mue's bundles' rule never does.
        DecodingOptions ofa = new DecodingOptions(1, 4, 0, 1.0, false);
        int[] allowed = new BeamSearch(ofa).run(bosLover(), 1).get(0).tokens();
        assertEquals(Vocabulary.BOS, allowed[0], Arrays.toString(allowed));
        DecodingOptions mue = ofa.withBanBos(true);
        assertTrue(mue.banBos() && new DecodingOptions(1, 4, 0, 1.0).banBos(), "mue's rule is the default");
        int[] banned = new BeamSearch(mue).run(bosLover(), 1).get(0).tokens();
        for (int t : banned) {
            assertTrue(t != Vocabulary.BOS, Arrays.toString(banned));
        }
    }

    @Test
    void greedyFollowsTheArgmaxAndMasksSpecials() {
        DecodingOptions o = new DecodingOptions(1, 6, 0, 1.0);
        TableModel m = new TableModel(1);
        BeamSearch.Hypothesis h = new BeamSearch(o).run(m, 1).get(0);
        // Replay: at every step the chosen token is the best allowed one.
        int[] prefix = {Vocabulary.BOS};
        int[] toks = h.tokens();
        for (int s = 0; s <= toks.length; s++) {
            double[] lp = LogSoftmax.apply(TableModel.logits(0, prefix));
            int best = -1;
            for (int v = 0; v < V; v++) {
                boolean allowed = v != Vocabulary.PAD && v != Vocabulary.BOS && !(s == 0 && v == Vocabulary.EOS)
                        && !(s == o.maxLength() && v != Vocabulary.EOS);
                if (allowed && (best < 0 || lp[v] > lp[best])) {
                    best = v;
                }
            }
            int chosen = s < toks.length ? toks[s] : Vocabulary.EOS;
            assertEquals(best, chosen, "step " + s);
            prefix = Arrays.copyOf(prefix, prefix.length + 1);
            prefix[prefix.length - 1] = chosen;
        }
        assertEquals(toks.length + 1, h.steps().size(), "one trace entry per step, eos included");
        for (int t : toks) {
            assertTrue(t > Vocabulary.UNK || t == Vocabulary.UNK, "specials never generated");
            assertTrue(t != Vocabulary.PAD && t != Vocabulary.BOS && t != Vocabulary.EOS);
        }
    }

    @Test
    void wideBeamFindsTheBestNormalisedSequenceOfExhaustiveSearch() {
        int maxLen = 3;
        DecodingOptions o = new DecodingOptions(64, maxLen, 0, 1.0);
        TableModel m = new TableModel(1);
        BeamSearch.Hypothesis h = new BeamSearch(o).run(m, 1).get(0);
        double[] best = {Double.NEGATIVE_INFINITY};
        int[][] bestSeq = {null};
        enumerate(new int[] {Vocabulary.BOS}, 0, maxLen, 0.0, best, bestSeq);
        assertArrayEquals(bestSeq[0], h.tokens());
        assertEquals(best[0], h.score(), 1e-9);
    }

    private static void enumerate(int[] prefix, int step, int maxLen, double lp, double[] best, int[][] bestSeq) {
        for (int v = 0; v < V; v++) {
            if (v == Vocabulary.PAD || v == Vocabulary.BOS || (step == 0 && v == Vocabulary.EOS)) {
                continue;
            }
            if (step == maxLen && v != Vocabulary.EOS) {
                continue;
            }
            double s = lp + logProb(0, prefix, v);
            if (v == Vocabulary.EOS) {
                double norm = s / prefix.length;
                if (norm > best[0]) {
                    best[0] = norm;
                    bestSeq[0] = Arrays.copyOfRange(prefix, 1, prefix.length);
                }
            } else {
                int[] p = Arrays.copyOf(prefix, prefix.length + 1);
                p[p.length - 1] = v;
                enumerate(p, step + 1, maxLen, s, best, bestSeq);
            }
        }
    }

    @Test
    void noRepeatNgramForbidsRepeats() {
        DecodingOptions o = new DecodingOptions(3, 12, 2, 1.0);
        for (int e = 0; e < 5; e++) {
            TableModel m = new TableModel(e + 1);
            List<BeamSearch.Hypothesis> hs = new BeamSearch(o).run(m, e + 1);
            for (BeamSearch.Hypothesis h : hs) {
                int[] t = new int[h.tokens().length + 1];
                t[0] = Vocabulary.BOS;
                System.arraycopy(h.tokens(), 0, t, 1, h.tokens().length);
                java.util.Set<String> seen = new java.util.HashSet<>();
                for (int i = 0; i + 1 < t.length; i++) {
                    assertTrue(seen.add(t[i] + "," + t[i + 1]), "bigram repeated in " + Arrays.toString(t));
                }
            }
        }
    }

    @Test
    void batchGivesTheResultsOfSingleExamplesAndMaxLengthForcesEos() {
        DecodingOptions o = new DecodingOptions(4, 5, 3, 1.0);
        int n = 4;
        List<BeamSearch.Hypothesis> batch = new BeamSearch(o).run(new TableModel(n), n);
        for (int e = 0; e < n; e++) {
            final int ex = e;
            TableModel single = new TableModel(1) {
                @Override
                public StepOutput step(int[] tokens) {
                    for (int r = 0; r < examples.size(); r++) {
                        examples.set(r, ex);
                    }
                    return super.step(tokens);
                }
            };
            BeamSearch.Hypothesis h = new BeamSearch(o).run(single, 1).get(0);
            assertArrayEquals(h.tokens(), batch.get(e).tokens(), "example " + e);
            assertEquals(h.score(), batch.get(e).score());
            assertTrue(h.tokens().length <= 5);
        }
    }
}
