package dev.mue.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.mue.api.model.Model;
import dev.mue.api.plan.Plan;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.Backends;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.runtime.Runtime;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.planner.Planner;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The layer-wise loss against an independent computation: the Java backend's scorer, made to exit
 * the decoder at layer i (minimum exit layer i, decoder threshold -1, encoder never exiting), gives
 * layer i's logits; the test computes the constrained, label-smoothed cross-entropy from them in
 * double and sums over the layers.
 */
class LayerWiseLossTest {

    @Test
    void equalsTheSumOfPerLayerCrossEntropiesFromTheJavaBackend() throws Exception {
        float[] perLayer = matchesJava(TrainFixture.model(7), TrainFixture.examples(3, 5));
        assertTrue(perLayer[0] > 0.5, "a random model's loss is far from 0");
    }

    /**
     * After training, the exported weights (relative-position tables included, which the trainer
     * turns into biases itself) give the Java backend the loss the trainer computes.
     */
    @Test
    void aTrainedModelStillMatchesTheJavaBackend() throws Exception {
        Model trained;
        try (Trainer t = new Trainer(TrainFixture.model(9), TrainerOptions.of(3e-3, 12, 8, 1), TrainFixture.SHAPES, 1)) {
            t.train(TrainFixture.examples(4, 32), 12, null);
            trained = t.model();
        }
        String table = "decoder.token_rel_pos_table_list.1.weight";
        assertTrue(!java.util.Arrays.equals(TrainFixture.model(9).weights().data(table), trained.weights().data(table)),
                "training moved " + table);
        matchesJava(trained, TrainFixture.examples(12, 5));
    }

    private static float[] matchesJava(Model model, List<TrainExample> batch) throws Exception {
        double[] expected = new double[model.config().decoderLayers()];
        try (Backend java = Backends.create("java", new BackendOptions(1, "", Map.of()))) {
            for (int layer = 1; layer <= expected.length; layer++) {
                expected[layer - 1] = hostLoss(java, model, batch, layer);
            }
        }
        float[] perLayer;
        float total;
        try (Trainer t = new Trainer(model, TrainerOptions.of(1e-3, 10, 4, 1), TrainFixture.SHAPES, 2);
                NDManager m = t.trainable().manager().newSubManager()) {
            LayerWiseLoss.Output o = t.loss().compute(m, batch);
            perLayer = o.perLayer().toFloatArray();
            total = o.total().getFloat();
        }
        double sum = 0;
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], perLayer[i], 2e-4 * Math.max(1, expected[i]), "layer " + (i + 1));
            sum += expected[i];
        }
        assertEquals(sum, total, 4e-4 * Math.max(1, sum));
        return perLayer;
    }

    /**
     * The exit-aware recipe's loss (issue 15): an encoder stopped after layer k hands the decoder
     * exactly what MuE's encoder exit after layer k does at inference (the state through the final
     * encoder LayerNorm), so the trainer's per-layer terms equal the Java backend's scoring pass with
     * both encoder streams exiting after layer 1; and depths are per example.
     */
    @Test
    void anEncoderStoppedAtALayerIsWhatMuEsEncoderExitHandsTheDecoder() throws Exception {
        Model model = TrainFixture.model(13);
        List<TrainExample> batch = TrainFixture.examples(6, 6);
        int layers = model.config().decoderLayers();
        double[] expected = new double[layers];
        ExitPolicy stop1 = ExitPolicy.builder().encoderThreshold(-1).build();
        try (Backend java = Backends.create("java", new BackendOptions(1, "", Map.of()))) {
            expected[0] = hostLoss(java, model, batch, stop1.toBuilder().decoderThreshold(-1).build(), 1);
            expected[layers - 1] = hostLoss(java, model, batch, stop1, layers);
        }
        int[][] ones = new int[batch.size()][];
        int[][] mixed = new int[batch.size()][];
        for (int b = 0; b < ones.length; b++) {
            ones[b] = new int[] {1, 1};
            mixed[b] = b % 2 == 0 ? new int[] {1, 1} : new int[] {2, 2};
        }
        try (Trainer t = new Trainer(model, TrainerOptions.of(1e-3, 10, 4, 1), TrainFixture.SHAPES, 1);
                NDManager m = t.trainable().manager().newSubManager()) {
            float[] stopped = t.loss().compute(m, batch, ones).perLayer().toFloatArray();
            assertEquals(expected[0], stopped[0], 2e-4 * Math.max(1, expected[0]), "layer 1");
            assertEquals(expected[layers - 1], stopped[layers - 1], 2e-4 * Math.max(1, expected[layers - 1]),
                    "last layer");
            float[] full = t.loss().compute(m, batch).perLayer().toFloatArray();
            assertTrue(Math.abs(full[layers - 1] - stopped[layers - 1]) > 1e-3, "the depth matters");
            int[][] twos = new int[batch.size()][];
            java.util.Arrays.fill(twos, new int[] {2, 2});
            assertArrayEquals(full, t.loss().compute(m, batch, twos).perLayer().toFloatArray(), "depth L is full depth");
            // Per example: the mixed batch's mean is the counted-position-weighted mean of its halves.
            List<TrainExample> even = new ArrayList<>();
            List<TrainExample> odd = new ArrayList<>();
            for (int b = 0; b < batch.size(); b++) {
                (b % 2 == 0 ? even : odd).add(batch.get(b));
            }
            float a = t.loss().compute(m, even, java.util.Arrays.copyOf(ones, even.size())).perLayer().toFloatArray()[0];
            float c = t.loss().compute(m, odd).perLayer().toFloatArray()[0];
            double na = even.stream().mapToInt(e -> e.targets().length - e.firstCounted()).sum();
            double nc = odd.stream().mapToInt(e -> e.targets().length - e.firstCounted()).sum();
            assertEquals((a * na + c * nc) / (na + nc), t.loss().compute(m, batch, mixed).perLayer().toFloatArray()[0],
                    1e-5 * Math.max(1, a));
        }
    }

    @Test
    void encoderDepthsAreDrawnPerExampleFromTheSeedAndTheStep() {
        TrainerOptions paper = TrainerOptions.of(1e-3, 100, 32, 7);
        for (int[] d : paper.encoderDepths(3, 32, 6)) {
            assertArrayEquals(new int[] {6, 6}, d, "rate 0: the paper's full depth");
        }
        TrainerOptions half = paper.withEncoderExitRate(0.5);
        int[][] a = half.encoderDepths(3, 4000, 6);
        assertTrue(java.util.Arrays.deepEquals(a, half.encoderDepths(3, 4000, 6)), "a function of seed and step");
        assertFalse(java.util.Arrays.deepEquals(a, half.encoderDepths(4, 4000, 6)), "each step draws anew");
        int[] count = new int[7];
        for (int[] d : a) {
            count[d[0]]++;
            count[d[1]]++;
        }
        // Expected: each of layers 1..5 about 8000 * 0.5 / 6 = 667; layer 6 about 4000 + 667.
        for (int l = 1; l <= 5; l++) {
            assertTrue(count[l] > 560 && count[l] < 780, "layer " + l + ": " + count[l]);
        }
        assertTrue(count[6] > 4450 && count[6] < 4900, "full depth: " + count[6]);
        assertThrows(IllegalArgumentException.class, () -> paper.withEncoderExitRate(1.5));
    }

    /**
     * A garbage collection between the forward and the backward pass must not change the
     * gradients (DJL's {@code mul(Number)} once left autograd holding a freed scalar: infinite
     * gradients after a GC).
     */
    @Test
    void gradientsSurviveAGarbageCollectionBetweenForwardAndBackward() {
        List<TrainExample> batch = TrainFixture.examples(3, 6);
        try (Trainer t = new Trainer(TrainFixture.model(8), TrainerOptions.of(1e-3, 10, 6, 1), TrainFixture.SHAPES, 1)) {
            double plain = gradNorm(t, batch, false);
            assertTrue(Double.isFinite(plain) && plain > 0);
            for (int i = 0; i < 2; i++) {
                assertEquals(plain, gradNorm(t, batch, true), 0.0);
            }
        }
    }

    private static double gradNorm(Trainer t, List<TrainExample> batch, boolean collect) {
        try (NDManager sm = t.trainable().manager().newSubManager()) {
            try (GradientCollector c = Engine.getEngine("PyTorch").newGradientCollector()) {
                LayerWiseLoss.Output o = t.loss().compute(sm, batch);
                if (collect) {
                    for (int i = 0; i < 3; i++) {
                        System.gc();
                        byte[][] junk = new byte[100][];
                        for (int j = 0; j < junk.length; j++) {
                            junk[j] = new byte[100_000];
                        }
                    }
                }
                c.backward(o.total());
            }
            double sq = 0;
            for (NDArray w : t.trainable().leaves().values()) {
                NDArray g = w.getGradient();
                g.attach(sm);
                sq += g.square().sum().getFloat();
                g.muli(0f);
            }
            return Math.sqrt(sq);
        }
    }

    /** Layer {@code layer}'s loss of the batch from the Java backend's logits, in double. */
    private static double hostLoss(Backend backend, Model model, List<TrainExample> batch, int layer) {
        // Threshold -1 exits at the first gate that may: the one after `layer`.
        return hostLoss(backend, model, batch, ExitPolicy.builder().minExitLayer(layer).decoderThreshold(-1).build(),
                layer);
    }

    /** The mean loss of decoder layer {@code layer} from the backend's scoring pass under {@code policy}. */
    private static double hostLoss(Backend backend, Model model, List<TrainExample> batch, ExitPolicy policy,
            int layer) {
        Plan plan = Planner.compile(model, policy, TrainFixture.SHAPES);
        int n = batch.size();
        List<EncoderInput> inputs = new ArrayList<>();
        int[] rows = new int[n];
        int[][] seqs = new int[n][];
        int[] first = new int[n];
        for (int i = 0; i < n; i++) {
            TrainExample e = batch.get(i);
            inputs.add(new EncoderInput(e.image(), e.encoderTokens()));
            rows[i] = i;
            seqs[i] = e.decoderInput();
            first[i] = e.firstCounted();
        }
        double sum = 0;
        int counted = 0;
        try (Executable ex = Runtime.prepare(backend, plan); EncodedBatch enc = ex.encode(inputs)) {
            ScoringOutput out = ex.score(enc, rows, seqs, first);
            for (int i = 0; i < n; i++) {
                assertEquals(layer, out.exitLayer()[i]);
                TrainExample e = batch.get(i);
                for (int t = e.firstCounted(); t < e.targets().length; t++) {
                    float[] lg = out.logits()[i][t - e.firstCounted()];
                    int[] allowed = e.allowed() == null ? null : e.allowed()[t - e.firstCounted()];
                    sum += tokenLoss(lg, allowed, e.targets()[t], e.labelSmoothing());
                    counted++;
                }
            }
        }
        return sum / counted;
    }

    /** fairseq/OFA label-smoothed NLL over the allowed tokens (all when {@code allowed} is null). */
    static double tokenLoss(float[] logits, int[] allowed, int target, double eps) {
        int[] set = allowed;
        if (set == null) {
            set = new int[logits.length];
            for (int v = 0; v < set.length; v++) {
                set[v] = v;
            }
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int v : set) {
            max = Math.max(max, logits[v]);
        }
        double z = 0;
        for (int v : set) {
            z += Math.exp(logits[v] - max);
        }
        double lse = max + Math.log(z);
        double nll = lse - logits[target];
        double smooth = 0;
        for (int v : set) {
            smooth += lse - logits[v];
        }
        double epsI = set.length > 1 ? eps / (set.length - 1) : 0;
        return (1 - eps - epsI) * nll + epsI * smooth;
    }
}
