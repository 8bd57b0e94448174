package dev.mue.train.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.tensor.FloatTensor;
import dev.mue.train.data.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole run of the recipe: interruption and resume, checkpoints, validation lines, the export. */
class TrainingRunTest {
    private static final FashionMnist DATA = FashionMnist.load();

    private static TrainingRun.Settings settings() {
        return new TrainingRun.Settings(4, 2, 1e-3, 11, 1, 2, 2, 3, false);
    }

    @Test
    void anInterruptedRunResumesToTheSameModel(@TempDir Path dir) throws Exception {
        List<String> log = new ArrayList<>();
        Model straight = TrainingRun.run(DATA, settings(), dir.resolve("a"), false, log::add, null);
        assertEquals(3, log.stream().filter(l -> l.startsWith("validation step ")).count(), log.toString());
        assertTrue(log.get(0).matches("validation step 0: loss [0-9.]+ \\(per decoder layer( [0-9.]+){6}\\)"), log.get(0));
        Model exported = ModelBundle.load(dir.resolve("a").resolve(TrainingRun.MODEL));
        assertEquals(straight.config(), exported.config());

        Path b = dir.resolve("b");
        RuntimeException stop = new RuntimeException("interrupted");
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> TrainingRun.run(DATA, settings(), b, false,
                l -> { }, p -> {
                    if (p.step() == 3) {
                        throw stop;
                    }
                }));
        assertEquals(stop, thrown);
        assertFalse(Files.exists(b.resolve(TrainingRun.MODEL)), "no bundle before the last step");
        List<String> resumedLog = new ArrayList<>();
        Model resumed = TrainingRun.run(DATA, settings(), b, true, resumedLog::add, null);
        assertEquals("resuming from " + b.resolve(TrainingRun.CHECKPOINT) + " at step 2", resumedLog.get(0));
        List<FloatTensor> x = List.copyOf(straight.weights().all());
        List<FloatTensor> y = List.copyOf(resumed.weights().all());
        assertEquals(x.size(), y.size());
        for (int i = 0; i < x.size(); i++) {
            assertArrayEquals(x.get(i).data(), y.get(i).data(), 1e-6f, x.get(i).name());
        }
    }

    @Test
    void trainingMovesTheRelativePositionTables(@TempDir Path dir) throws Exception {
        Model initial = GridTraining.initialModel(11);
        Model trained = TrainingRun.run(DATA, settings(), dir, false, l -> { }, null);
        for (String name : List.of("encoder.token_rel_pos_table_list.0.weight", "encoder.image_rel_pos_table_list.5.weight",
                "decoder.token_rel_pos_table_list.3.weight")) {
            float[] a = initial.weights().data(name);
            float[] b = trained.weights().data(name);
            double moved = 0;
            for (int i = 0; i < a.length; i++) {
                moved = Math.max(moved, Math.abs(a[i] - b[i]));
            }
            assertTrue(moved > 1e-4, name + " moved only " + moved);
        }
        // the absolute position embeddings are not trained
        assertArrayEquals(initial.weights().data("encoder.embed_positions.weight"),
                trained.weights().data("encoder.embed_positions.weight"));
    }

    @Test
    void theBaselineTrainsOnTheLastLayerAloneAndCannotResumeALayerWiseRun(@TempDir Path dir) throws Exception {
        TrainingRun.Settings layerWise = settings();
        TrainingRun.Settings baseline = new TrainingRun.Settings(4, 2, 1e-3, 11, 1, 2, 2, 3, true);
        try (Trainer t = new Trainer(GridTraining.initialModel(11), baseline.trainerOptions(), GridTraining.shapes(), 1);
                var m = t.trainable().manager().newSubManager()) {
            var batch = new GridTraining(DATA.validation()).examples(3, 4);
            LayerWiseLoss.Output o = t.loss().compute(m, batch);
            float[] per = o.perLayer().toFloatArray();
            assertEquals(per[per.length - 1], o.total().getFloat(), 0f);
            assertTrue(per[0] > 0 && per[0] != o.total().getFloat());
        }
        TrainingRun.run(DATA, layerWise, dir, false, l -> { }, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingRun.run(DATA, baseline, dir, true, l -> { }, null));
        assertEquals("checkpoint was trained with the layer-wise loss, options say the final-layer loss", e.getMessage());
    }

    @Test
    void badSettingsAreRejectedBeforeAnyWork() {
        assertThrows(IllegalArgumentException.class, () -> new TrainingRun.Settings(0, 2, 1e-3, 1, 1, 0, 0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new TrainingRun.Settings(2, 2, 0, 1, 1, 0, 0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new TrainingRun.Settings(2, 2, 1e-3, 1, 1, -1, 0, 1, false));
        assertThrows(IllegalArgumentException.class,
                () -> new TrainingRun.Settings(Integer.MAX_VALUE, 2, 1e-3, 1, 1, 0, 0, 1, false));
    }
}
