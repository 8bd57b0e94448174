package dev.mue.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.text.Vocabulary;
import dev.mue.train.data.FashionMnist;
import dev.mue.train.data.GridTasks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sweep machinery on real task examples and a small seeded model (its quality is meaningless). */
class EvaluatorTest {

    private static Model model(GridTasks t) {
        List<String> corpus = new ArrayList<>();
        t.captions(1, 200).forEach(c -> corpus.add(c.caption()));
        t.entailments(1, 200).forEach(e -> corpus.add(e.hypothesis()));
        corpus.addAll(List.of("yes", "no", "maybe", "what does the image describe?", "does the image describe"));
        Vocabulary v = Vocabulary.fromCorpus(corpus, 300);
        ModelConfig c = new ModelConfig("eval-test", 32, 3, 3, 4, 64, v.size(), 48, 16, 4, 64,
                new ResNetConfig(8, 8, new int[] {1, 1, 1}), 2.0, 1e-5);
        return new Model(c, RandomWeights.generate(c, 3), v, "eval-test");
    }

    @Test
    void veSweepReportsQualityAndReductionsPerRow(@TempDir Path dir) throws Exception {
        GridTasks t = new GridTasks(FashionMnist.load().validation());
        Evaluator ev = new Evaluator(model(t), "java", 1, 4);
        List<OperatingPoint> points = List.of(OperatingPoint.full(),
                OperatingPoint.mue("ve", -1, -1, -1, EncoderMode.DECOMPOSED),
                OperatingPoint.mue("ve", -1, -1, -1, EncoderMode.JOINT));
        List<EvalRow> rows = ev.entailment(t, t.entailments(5, 9), points);
        assertEquals(3, rows.size());
        assertEquals(100.0, rows.get(0).percentOfFull(), 1e-9);
        assertEquals(0.0, rows.get(0).layerReduction(), 1e-12);
        assertEquals(0.0, rows.get(0).measuredReduction(), 1e-12);
        // threshold -1: one of 3 layers in every stream and in the decoder
        assertEquals(2.0 / 3, rows.get(1).layerReduction(), 1e-9);
        assertEquals(2.0 / 3, rows.get(2).layerReduction(), 1e-9);
        assertTrue(rows.get(1).flopReduction() > 0.5);
        String md = EvalReport.markdown("ve", rows);
        assertTrue(md.contains("| full model |") && md.contains("-66.7%") && md.contains("w/o decomposition"), md);
        Path png = dir.resolve("ve.png");
        EvalReport.plot("ve", rows, png);
        assertEquals(820, ImageIO.read(png.toFile()).getWidth());
        assertTrue(Files.size(png) > 1000);
    }

    @Test
    void captionSweepScoresWithCiderAndBleu() {
        GridTasks t = new GridTasks(FashionMnist.load().validation());
        Evaluator ev = new Evaluator(model(t), "java", 1, 3);
        List<EvalRow> rows = ev.captioning(t, t.captions(9, 6),
                List.of(OperatingPoint.full(), OperatingPoint.mue("caption", 1, 1, -1, EncoderMode.DECOMPOSED)),
                new DecodingOptions(2, 6, 3, 1.0));
        assertEquals(2, rows.size());
        assertTrue(rows.get(0).quality() >= 0 && !Double.isNaN(rows.get(0).bleu4()));
        // encoder full, decoder 1 of 3 layers: (3 + 1) / 6 layers used
        assertEquals(1 - 4.0 / 6, rows.get(1).layerReduction(), 1e-9);
    }

    @Test
    void defaultSweepsHaveTheTableRows() {
        for (String task : List.of("ve", "caption")) {
            List<OperatingPoint> s = OperatingPoint.sweep(task);
            assertEquals("full model", s.get(0).label());
            assertTrue(s.stream().anyMatch(p -> p.label().startsWith("w/o decomposition")));
            assertTrue(s.stream().filter(p -> p.label().startsWith("MuE")).count() >= 3);
        }
    }
}
