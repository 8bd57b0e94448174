package dev.mue.cli;

import dev.mue.api.policy.Task;
import dev.mue.train.calibrate.CandidateGrid;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The candidate grid of {@code mue calibrate} and {@code mue eval --pareto}: the task's default
 * grid ({@link CandidateGrid#defaults}) with any of its three threshold lists replaced, e.g. a
 * finer grid near 1 for a model trained at full depth (the paper's recipe), whose outputs start to
 * change there.
 */
final class GridOptions {
    @Option(names = "--grid-image", split = ",", paramLabel = "T,...",
            description = "Image-stream thresholds of the grid (default: " + CandidateGrid.DEFAULT_ENCODER + ").")
    List<Double> image;

    @Option(names = "--grid-text", split = ",", paramLabel = "T,...",
            description = "Text-stream thresholds of the grid (default: " + CandidateGrid.DEFAULT_ENCODER + ").")
    List<Double> text;

    @Option(names = "--grid-decoder", split = ",", paramLabel = "T,...",
            description = "Decoder thresholds of the grid (default for ve: " + CandidateGrid.DEFAULT_VE_DECODER
                    + "; caption, the decay schedule's theta: " + CandidateGrid.DEFAULT_CAPTION_DECODER + ").")
    List<Double> decoder;

    /** The grid of {@code task}; an invalid list (empty, out of [-1, 1], repeated) is a usage error. */
    CandidateGrid grid(CommandSpec spec, Task task) {
        CandidateGrid d = CandidateGrid.defaults(task);
        try {
            return new CandidateGrid(image != null ? image : d.image(), text != null ? text : d.text(),
                    decoder != null ? decoder : d.decoder());
        } catch (IllegalArgumentException e) {
            throw MueCli.usage(spec, e.getMessage().replace("'grid.", "'--grid-"));
        }
    }
}
