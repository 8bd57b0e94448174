package dev.mue.backend.torch;

import dev.mue.backend.torch.forward.PtOps;
import dev.mue.backend.torch.forward.PtParams;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.session.decode.BeamSearch;
import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.Model;
import dev.mue.api.plan.Plan;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.Prepared;
import dev.mue.runtime.Runtime;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.api.spi.StepOutput;
import dev.mue.tck.check.Float32;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The torch executable on its own: batch against singles, autograd, GELU, scopes and bad inputs. */
class PtExecutableTest {
    private static final Model MODEL = PtFixture.model(5);

    private static Executable prepare(ExitPolicy p) {
        return Runtime.prepare(PtFixture.torch(), PtFixture.plan(MODEL, p));
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    @Test
    void batchOfEightWithMixedExitLayersEqualsEightSingleRuns() {
        List<EncoderInput> in = PtFixture.inputs(MODEL.config(), 8);
        List<Double> img = new ArrayList<>();
        List<Double> txt = new ArrayList<>();
        try (Executable probe = prepare(ExitPolicy.full()); EncodedBatch e = probe.encode(in)) {
            for (int i = 0; i < 8; i++) {
                img.add(e.exits(i).get(0).gates().get(0).similarity());
                txt.add(e.exits(i).get(1).gates().get(1).similarity());
            }
        }
        ExitPolicy mixed = ExitPolicy.builder().imageThreshold(median(img)).textThreshold(median(txt))
                .decoderThreshold(0.75).kvPolicy(KvPolicy.PROPAGATE).build();
        DecodingOptions beam = new DecodingOptions(3, 8, 3, 1.0);
        try (Executable ex = prepare(mixed); EncodedBatch batch = ex.encode(in)) {
            Set<Integer> imageExits = new HashSet<>();
            Set<Integer> textExits = new HashSet<>();
            Set<Integer> decoderExits = new HashSet<>();
            List<BeamSearch.Hypothesis> batchHyps;
            try (DecoderStepper s = ex.decoder(batch, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, beam.maxLength())) {
                batchHyps = new BeamSearch(beam).run(s, 8);
            }
            for (int i = 0; i < 8; i++) {
                try (EncodedBatch single = ex.encode(List.of(in.get(i)))) {
                    List<EncoderExit> a = single.exits(0);
                    List<EncoderExit> b = batch.exits(i);
                    for (int s = 0; s < 2; s++) {
                        assertEquals(a.get(s).exitLayer(), b.get(s).exitLayer(), "exit of example " + i);
                        for (int g = 0; g < a.get(s).gates().size(); g++) {
                            assertEquals(a.get(s).gates().get(g).similarity(), b.get(s).gates().get(g).similarity(),
                                    Float32.SAME_LIBRARY_SIMILARITY);
                        }
                    }
                    // libtorch blocks its GEMMs by batch shape: a batch is the same up to summation order.
                    Float32.assertVectorClose(single.output(0), batch.output(i), Float32.SAME_LIBRARY_VECTOR,
                            "encoder output of example " + i);
                    imageExits.add(b.get(0).exitLayer());
                    textExits.add(b.get(1).exitLayer());
                    try (DecoderStepper s = ex.decoder(single, new int[] {0}, beam.maxLength())) {
                        BeamSearch.Hypothesis h = new BeamSearch(beam).run(s, 1).get(0);
                        assertArrayEquals(h.tokens(), batchHyps.get(i).tokens(), "tokens of example " + i);
                        assertEquals(h.score(), batchHyps.get(i).score(),
                                Float32.SAME_LIBRARY_VECTOR * Math.max(1, Math.abs(h.score())), "score of example " + i);
                        for (int t = 0; t < h.steps().size(); t++) {
                            assertEquals(h.steps().get(t).exitLayer(), batchHyps.get(i).steps().get(t).exitLayer());
                            decoderExits.add(h.steps().get(t).exitLayer());
                        }
                    }
                }
            }
            assertTrue(imageExits.size() > 1, "image exits vary: " + imageExits);
            assertTrue(textExits.size() > 1, "text exits vary: " + textExits);
            assertTrue(decoderExits.size() > 1, "decoder exits vary: " + decoderExits);
        }
    }

    @Test
    void scoringABatchEqualsSingleExamples() {
        List<EncoderInput> in = PtFixture.inputs(MODEL.config(), 3);
        ExitPolicy p = ExitPolicy.builder().decoderThreshold(0.5).build();
        int[][] seqs = {{0, 5, 6, 7}, {0, 5, 6, 8}, {0, 9, 10}, {0, 9, 11}, {0, 12, 13, 14, 15}, {0, 12, 13, 14, 16}};
        int[] rows = {0, 0, 1, 1, 2, 2};
        int[] first = {2, 2, 1, 1, 3, 3};
        try (Executable ex = prepare(p); EncodedBatch batch = ex.encode(in)) {
            ScoringOutput all = ex.score(batch, rows, seqs, first);
            for (int e = 0; e < 3; e++) {
                try (EncodedBatch single = ex.encode(List.of(in.get(e)))) {
                    ScoringOutput one = ex.score(single, new int[] {0, 0},
                            new int[][] {seqs[2 * e], seqs[2 * e + 1]}, new int[] {first[2 * e], first[2 * e + 1]});
                    assertEquals(one.exitLayer()[0], all.exitLayer()[e]);
                    List<GateRecord> ga = one.gates().get(0);
                    List<GateRecord> gb = all.gates().get(e);
                    assertEquals(ga.size(), gb.size());
                    for (int g = 0; g < ga.size(); g++) {
                        assertEquals(ga.get(g).exit(), gb.get(g).exit());
                        assertEquals(ga.get(g).similarity(), gb.get(g).similarity(), Float32.SAME_LIBRARY_SIMILARITY);
                    }
                    for (int k = 0; k < 2; k++) {
                        for (int t = 0; t < one.logits()[k].length; t++) {
                            Float32.assertVectorClose(one.logits()[k][t], all.logits()[2 * e + k][t],
                                    Float32.SAME_LIBRARY_VECTOR, "logits");
                        }
                    }
                }
            }
        }
    }

    @Test
    void geluIsTheExactErfForm() {
        Engine engine = PtNatives.start(BackendOptions.defaults());
        try (NDManager m = engine.newBaseManager()) {
            float[] x = {-1f, 0.5f, 1f, 2f};
            // x * Phi(x), from the normal distribution's tables. libtorch's vectorised erf differs in
            // the last bits between its AVX2 and AVX-512 builds (gelu(2) is 2 float32 steps apart),
            // so the band is Float32.ELEMENTWISE_STEPS; the tanh form, 1.5e-4 off at x = 1 (about
            // 2,500 steps), stays far outside it.
            double[] exact = {-0.15865525393145707, 0.3457312306370065, 0.8413447460685429, 1.9544997361036416};
            float[] y = PtOps.gelu(m.create(x)).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                Float32.assertWithinSteps(exact[i], y[i], Float32.ELEMENTWISE_STEPS, "gelu(" + x[i] + ")");
            }
            double tanhFormAtOne = 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (1 + 0.044715)));
            assertTrue(Float32.steps(exact[2], (float) tanhFormAtOne) > 10 * Float32.ELEMENTWISE_STEPS,
                    "the band tells the exact form from the tanh form");
        }
    }

    @Test
    void oneEncoderLayerRunsUnderAutogradWithFiniteGradients() {
        Engine engine = PtNatives.start(BackendOptions.defaults());
        Plan plan = PtFixture.plan(MODEL, ExitPolicy.full());
        try (NDManager m = engine.newBaseManager()) {
            PtParams p = new PtParams(MODEL.config(), plan.weights(), plan.biases(), m);
            for (NDArray a : m.getManagedArrays()) {
                if (a.getDataType() == DataType.FLOAT32) {
                    a.setRequiresGradient(true);
                }
            }
            PtOps ops = new PtOps(MODEL.config());
            int len = 5;
            int d = MODEL.config().dModel();
            try (GradientCollector gc = engine.newGradientCollector()) {
                NDArray x = m.randomNormal(new Shape(2, len, d));
                NDArray bias = p.textBias[0].get(new NDIndex(":, :{}, :{}", len, len)).expandDims(0);
                NDArray mask = PtOps.paddingMask(m, new int[] {len, 3}, len);
                NDArray out = ops.encoderLayer(p.encoder[0], x, bias, mask);
                gc.backward(out.mul(out).sum());
            }
            for (NDArray w : new NDArray[] {p.encoder[0].fc1().w(), p.encoder[0].self().q().w(),
                    p.encoder[0].self().cAttn(), p.encoder[0].ffnMidLn().w()}) {
                float[] g = w.getGradient().toFloatArray();
                double norm = 0;
                for (float v : g) {
                    assertTrue(Float.isFinite(v), "finite gradient");
                    norm += v * v;
                }
                assertTrue(norm > 0, "a gradient reaches " + w.getShape());
            }
        }
    }

    @Test
    void requestsNeverAllocateIntoTheWeightsAndClosedObjectsAreRefused() {
        Plan plan = PtFixture.plan(MODEL, ExitPolicy.builder().decoderThreshold(0.6).kvPolicy(KvPolicy.OMIT).build());
        Prepared prepared = PtFixture.torch().prepare(plan);
        try (Executable ex = Runtime.executable(plan, prepared)) {
            PtLayerOps pt = (PtLayerOps) ((Prepared.Interpreted) prepared).ops();
            int weights = pt.weights().getManagedArrays().size();
            EncodedBatch enc = ex.encode(PtFixture.inputs(MODEL.config(), 2));
            DecoderStepper s = ex.decoder(enc, new int[] {0, 1, 1}, 16);
            StepOutput o = s.step(new int[] {0, 0, 0});
            s.reorder(new int[] {2, 0});
            s.step(new int[] {7, 8});
            ex.score(enc, new int[] {0, 1}, new int[][] {{0, 5, 6}, {0, 7}}, new int[] {1, 0});
            assertEquals(3, o.logits().length);
            assertTrue(pt.weights().getManagedArrays().size() > weights, "the batch and stepper hold tensors");
            assertThrows(InvalidInputException.class, () -> s.reorder(new int[] {2}));
            s.reorder(new int[0]);
            assertEquals(0, s.rows());
            assertEquals(0, s.step(new int[0]).logits().length);
            s.close();
            assertThrows(IllegalStateException.class, () -> s.step(new int[] {1, 1}));
            enc.close();
            assertThrows(IllegalStateException.class, () -> enc.output(0));
            assertEquals(weights, pt.weights().getManagedArrays().size(), "closing them frees every request tensor");
        }
    }

    @Test
    void badInputsAreRejectedWithTheDocumentedException() {
        try (Executable ex = prepare(ExitPolicy.full())) {
            EncoderInput good = PtFixture.input(MODEL.config(), 1, 3);
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> ex.encode(List.of(new EncoderInput(new float[10], good.tokens()))));
            assertTrue(e.getMessage().contains("expected 3x48x48"), e.getMessage());
            e = assertThrows(InvalidInputException.class,
                    () -> ex.encode(List.of(new EncoderInput(good.image(), new int[] {0, 99999, 2}))));
            assertTrue(e.getMessage().contains("99999"), e.getMessage());
            e = assertThrows(InvalidInputException.class,
                    () -> ex.encode(List.of(new EncoderInput(good.image(), new int[17]))));
            assertTrue(e.getMessage().contains("limit 16"), e.getMessage());
            assertThrows(InvalidInputException.class, () -> ex.encode(List.of()));
            try (EncodedBatch enc = ex.encode(List.of(good)); DecoderStepper s = ex.decoder(enc, new int[] {0}, 16)) {
                assertThrows(InvalidInputException.class, () -> s.step(new int[] {1, 2}));
                assertThrows(InvalidInputException.class, () -> s.step(new int[] {-4}));
                for (int t = 0; t < 12; t++) {
                    s.step(new int[] {5});
                }
                e = assertThrows(InvalidInputException.class, () -> s.step(new int[] {5}));
                assertTrue(e.getMessage().contains("12 decoder positions"), e.getMessage());
                assertThrows(InvalidInputException.class, () -> ex.decoder(enc, new int[] {1}, 16));
                assertThrows(InvalidInputException.class,
                        () -> ex.score(enc, new int[] {0}, new int[][] {{0, 5}}, new int[] {2}));
            }
        }
    }
}
