package dev.mue.train.trainer;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a test: measures the time of one training step of a {@code mue-demo}-shaped model at batch
 * 16 on real grid examples (run with {@code -Dmue.train.timing=true}; threads from
 * {@code mue.train.threads}, default 1).
 */
@EnabledIfSystemProperty(named = "mue.train.timing", matches = "true")
class TrainStepTiming {

    @Test
    void mueDemoBatch16() {
        int threads = Integer.getInteger("mue.train.threads", 1);
        // the preset's embedding (1024 rows) and one cut to the task corpus's vocabulary
        time(ModelConfig.preset("mue-demo"), threads);
        time(ModelConfig.preset("mue-demo").withVocabSize(TrainFixture.VOCAB.size()), threads);
    }

    private static void time(ModelConfig c, int threads) {
        Model model = new Model(c, RandomWeights.generate(c, 1, 0.05), TrainFixture.VOCAB, "timing");
        List<TrainExample> data = TrainFixture.examples(11, 64, c.imageSize());
        int warm = 5;
        int measured = 20;
        try (Trainer t = new Trainer(model, TrainerOptions.of(1e-3, warm + measured, 16, 1), TrainFixture.SHAPES,
                threads)) {
            t.train(data, warm, null);
            long t0 = System.nanoTime();
            List<Progress> run = t.train(data, warm + measured, null);
            double ms = (System.nanoTime() - t0) / 1e6 / measured;
            double[] each = run.stream().mapToDouble(p -> 16000.0 / p.examplesPerSecond()).sorted().toArray();
            System.out.printf(Locale.ROOT,
                    "TIMING mue-demo (d %d, %d+%d layers, %d px, vocab %d) batch 16, %d threads: mean %.1f ms/step, "
                            + "median %.1f, min %.1f, max %.1f; final loss %.3f; steps with a non-finite gradient norm: %d%n",
                    c.dModel(), c.encoderLayers(), c.decoderLayers(), c.imageSize(), c.vocabSize(), threads, ms,
                    each[each.length / 2], each[0], each[each.length - 1], run.get(run.size() - 1).loss(),
                    run.stream().filter(p -> !Double.isFinite(p.gradNorm())).count());
        }
    }
}
