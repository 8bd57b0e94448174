package dev.mue.serve;

import dev.mue.api.EntailmentResult;
import dev.mue.api.GenerationResult;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.session.MueSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The real model and images the tests serve: the bundled default model (read from mue-cli's
 * resources, the bundle {@code ./mue} uses when no {@code --model} is given) and the test-split
 * samples; the session's own results for them are what every server response must equal.
 */
final class Fixtures {
    static final Path MODEL_DIR = Path.of("..", "mue-model-grid", "src", "main", "resources", "dev", "mue", "model", "grid", "mue-grid");
    static final Path SAMPLES = Path.of("..", "samples");
    static final int SAMPLE_COUNT = 6;
    /** Hypotheses about sample 0 ("a sneaker, two pullovers and a dress"): entailed, contradicted, counted. */
    static final List<String> HYPOTHESES = List.of("there is a sneaker", "there is a coat", "there are two pullovers");

    /** A premise for {@link #entailmentWithPremise()}. */
    static final String PREMISE = "four pieces of clothing on a grey background";

    private static Model model;
    private static EntailmentResult withPremise;
    private static List<GenerationResult> captions;
    private static List<EntailmentResult> entailments;

    private Fixtures() {
    }

    static synchronized Model model() {
        if (model == null) {
            model = ModelBundle.load(MODEL_DIR);
        }
        return model;
    }

    /** The server's session spec: the default model on the java backend with the bundle's calibrated policies. */
    static SessionSpec spec() {
        return SessionSpec.of(model(), MODEL_DIR.toString()).withBackend("java");
    }

    static Path sample(int i) {
        return SAMPLES.resolve("fmnist-test-" + i + ".png");
    }

    static byte[] sampleBytes(int i) {
        try {
            return Files.readAllBytes(sample(i));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What {@code mue caption} gives for each sample: the session's single-image captions. */
    static synchronized List<GenerationResult> captions() {
        if (captions == null) {
            try (MueSession s = spec().open()) {
                List<GenerationResult> out = new ArrayList<>();
                for (int i = 0; i < SAMPLE_COUNT; i++) {
                    out.add(s.caption(sample(i)));
                }
                captions = List.copyOf(out);
            }
        }
        return captions;
    }

    /** What {@code mue entail} gives for sample 0 and each of {@link #HYPOTHESES}. */
    static synchronized List<EntailmentResult> entailments() {
        if (entailments == null) {
            try (MueSession s = spec().open()) {
                List<EntailmentResult> out = new ArrayList<>();
                for (String h : HYPOTHESES) {
                    out.add(s.entail(sample(0), h));
                }
                entailments = List.copyOf(out);
            }
        }
        return entailments;
    }

    /** What {@code mue entail} gives for sample 0, the first hypothesis and {@link #PREMISE}. */
    static synchronized EntailmentResult entailmentWithPremise() {
        if (withPremise == null) {
            try (MueSession s = spec().open()) {
                withPremise = s.entail(sample(0), HYPOTHESES.get(0), PREMISE);
            }
        }
        return withPremise;
    }
}
