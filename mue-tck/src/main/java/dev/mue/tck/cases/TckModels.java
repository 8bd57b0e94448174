package dev.mue.tck.cases;

import dev.mue.api.model.Model;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.text.Vocabulary;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The TCK's random models, generated once per spec and shared by every test of a run. */
final class TckModels {
    private static final Map<TckCase.ModelSpec, Model> MODELS = new ConcurrentHashMap<>();

    private TckModels() {
    }

    static Model model(TckCase.ModelSpec spec) {
        return MODELS.computeIfAbsent(spec, s -> new Model(s.config(), RandomWeights.generate(s.config(), s.seed(), s.std()),
                vocabulary(s.config().vocabSize()), "tck:" + s.config().name() + "@" + s.seed()));
    }

    /** A dictionary whose size is exactly {@code size}: the specials plus BPE ids 0..size-5. */
    static Vocabulary vocabulary(int size) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < size - Vocabulary.SPECIALS; i++) {
            sb.append(i).append(' ').append(1000 - i % 1000).append('\n');
        }
        return Vocabulary.read(new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.UTF_8)), "tck-dict");
    }
}
