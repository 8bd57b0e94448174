package dev.mue.benchmarks.model;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.planner.Planner;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.Backends;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.text.Vocabulary;
import dev.mue.runtime.Runtime;
import dev.mue.benchmarks.Inputs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A seeded model compiled and prepared on a backend, plus a batch of inputs: what the model
 * benchmarks set up once per trial so that only execution is timed.
 */
final class ModelState implements AutoCloseable {
    final Model model;
    final Backend backend;
    final Executable executable;
    final List<EncoderInput> batch;

    /**
     * @param modelName {@code mue-demo} (the bundled default's shape) or {@code ofa-tiny-256}
     *                  (OFA tiny at 256 px: 256 image tokens)
     * @param policy    {@code full} (every layer) or {@code mue} (thresholds 0.8 everywhere)
     */
    ModelState(String backendId, String modelName, String policy, int threads, int batchSize) {
        ModelConfig c = switch (modelName) {
            case "mue-demo" -> ModelConfig.preset("mue-demo").withVocabSize(300);
            case "ofa-tiny-256" -> ModelConfig.preset("ofa-tiny").withImageSize(256);
            default -> throw new IllegalArgumentException("unknown model " + modelName);
        };
        Vocabulary vocab = Vocabulary.fromCorpus(List.of("a shoe and a bag", "what does the image describe?"), 50);
        model = new Model(c, RandomWeights.generate(c, 42), vocab, modelName);
        ExitPolicy p = switch (policy) {
            case "full" -> ExitPolicy.full();
            case "mue" -> ExitPolicy.builder().encoderThreshold(0.8).decoderThreshold(0.8).build();
            default -> throw new IllegalArgumentException("unknown policy " + policy);
        };
        backend = Backends.choose(backendId).create(new BackendOptions(threads, "", Map.of()));
        executable = Runtime.prepare(backend, Planner.compile(model, p, new PlanShapes(32, 24)));
        batch = new ArrayList<>();
        for (int i = 0; i < batchSize; i++) {
            int[] tokens = new int[12];
            tokens[0] = Vocabulary.BOS;
            for (int t = 1; t < 11; t++) {
                tokens[t] = 4 + (t * 7 + i) % (vocab.size() - 4);
            }
            tokens[11] = Vocabulary.EOS;
            batch.add(new EncoderInput(Inputs.uniform(100 + i, 3 * c.imageSize() * c.imageSize()), tokens));
        }
    }

    @Override
    public void close() {
        executable.close();
        backend.close();
    }
}
