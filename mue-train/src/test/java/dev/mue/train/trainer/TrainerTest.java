package dev.mue.train.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.GenerationResult;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.safetensors.SafetensorsFile;
import dev.mue.api.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training on real Fashion-MNIST grid examples: the loss falls, runs reproduce and resume, the export loads. */
class TrainerTest {
    private static final List<TrainExample> DATA = TrainFixture.examples(11, 64);

    private static TrainerOptions options(int total) {
        return new TrainerOptions(3e-3, 4, total, 0.01, 1.0, 8, 42, 0.9, 0.999, 1e-8, false, 0);
    }

    @Test
    void fortyStepsReduceTheLossClearly() {
        List<String> lines = new ArrayList<>();
        List<Progress> run;
        try (Trainer t = new Trainer(TrainFixture.model(1), options(40), TrainFixture.SHAPES, 1)) {
            run = t.train(DATA, 40, p -> lines.add(p.line()));
            assertEquals(40, t.step());
        }
        assertEquals(40, lines.size());
        assertTrue(lines.get(0).startsWith("step 1 loss "), lines.get(0));
        double initial = run.get(0).loss();
        double last = 0;
        for (int i = 35; i < 40; i++) {
            last += run.get(i).loss() / 5;
        }
        assertTrue(last < 0.7 * initial, "loss " + initial + " -> " + last + "\n" + String.join("\n", lines));
        for (Progress p : run) {
            assertTrue(Double.isFinite(p.loss()) && p.examplesPerSecond() > 0);
        }
    }

    @Test
    void sameSeedSameCurveAndResumeMatchesAnUninterruptedRun(@TempDir Path dir) throws Exception {
        int n = 12;
        List<Progress> full;
        try (Trainer t = new Trainer(TrainFixture.model(2), options(n), TrainFixture.SHAPES, 1)) {
            full = t.train(DATA, n, null);
        }
        List<Progress> firstHalf;
        Path ckpt = dir.resolve("ckpt");
        try (Trainer t = new Trainer(TrainFixture.model(2), options(n), TrainFixture.SHAPES, 1)) {
            firstHalf = t.train(DATA, n / 2, null);
            t.checkpoint(ckpt);
        }
        for (int i = 0; i < n / 2; i++) {
            assertEquals(full.get(i).loss(), firstHalf.get(i).loss(), 0.0, "same seed, same loss at step " + (i + 1));
        }
        assertTrue(Files.exists(ckpt.resolve(Trainer.STATE)) && Files.exists(ckpt.resolve(Trainer.OPTIMIZER)));
        try (SafetensorsFile f = SafetensorsFile.open(ckpt.resolve(ModelBundle.WEIGHTS))) {
            assertEquals(DType.F32, f.info("encoder.embed_tokens.weight").dtype());
        }
        List<Progress> secondHalf;
        try (Trainer t = Trainer.resume(ckpt, options(n), TrainFixture.SHAPES, 1)) {
            assertEquals(n / 2, t.step());
            secondHalf = t.train(DATA, n, null);
        }
        assertEquals(n / 2, secondHalf.size());
        for (int i = 0; i < n / 2; i++) {
            assertEquals(full.get(n / 2 + i).loss(), secondHalf.get(i).loss(), 1e-5, "step " + (n / 2 + i + 1));
        }
    }

    @Test
    void exportedBundleLoadsAndCaptionsOnTheJavaBackend(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("bundle");
        Model trained;
        try (Trainer t = new Trainer(TrainFixture.model(3), options(4), TrainFixture.SHAPES, 1)) {
            t.train(DATA, 4, null);
            trained = t.model();
            t.export(out);
        }
        Model loaded = ModelBundle.load(out);
        assertEquals(TrainFixture.CONFIG, loaded.config());
        assertEquals(TrainFixture.VOCAB, loaded.vocabulary());
        float[] a = trained.weights().data("decoder.layers.1.fc2.weight");
        float[] b = loaded.weights().data("decoder.layers.1.fc2.weight");
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-3 * Math.max(1, Math.abs(a[i])), "F16 round trip");
        }
        // training moved the weights away from the initial ones
        float[] init = TrainFixture.model(3).weights().data("decoder.layers.1.fc2.weight");
        assertFalse(java.util.Arrays.equals(init, a));
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve(ModelBundle.WEIGHTS))) {
            assertEquals(DType.F16, f.info("encoder.embed_tokens.weight").dtype());
        }
        try (MueSession s = Mue.session().model(out).backend("java").open()) {
            GenerationResult r = s.caption(TrainFixture.TASKS.render(TrainFixture.TASKS.grid(5, 0)));
            assertNotNull(r.text());
            assertTrue(r.tokens().length > 0);
        }
    }

    @Test
    void entailmentTargetsOnlyTheAnswerAndEosWithConstraints() {
        List<int[]> answers = TrainFixture.answers();
        int[] prompt = {0, 10, 11, 12, 2};
        TrainExample e = TrainExample.entailment(new float[0], prompt, answers, 1);
        int no = answers.get(1)[0];
        assertArrayEquals(new int[] {0, 10, 11, 12, no}, e.decoderInput());
        assertArrayEquals(new int[] {10, 11, 12, no, 2}, e.targets());
        assertEquals(3, e.firstCounted());
        int[] firsts = answers.stream().mapToInt(x -> x[0]).sorted().toArray();
        assertArrayEquals(firsts, e.allowed()[0]);
        assertArrayEquals(new int[] {2}, e.allowed()[1]);
        TrainExample c = TrainExample.caption(new float[0], prompt, new int[] {20, 21});
        assertArrayEquals(new int[] {0, 20, 21}, c.decoderInput());
        assertArrayEquals(new int[] {20, 21, 2}, c.targets());
        assertEquals(0.1, c.labelSmoothing());
    }

    @Test
    void learningRateWarmsUpThenDecaysLinearly() {
        TrainerOptions o = options(40);
        assertEquals(3e-3 / 4, o.learningRate(0), 1e-12);
        assertEquals(3e-3, o.learningRate(3), 1e-12);
        assertEquals(3e-3, o.learningRate(4), 1e-12);
        assertEquals(3e-3 / 36, o.learningRate(39), 1e-12);
    }
}
