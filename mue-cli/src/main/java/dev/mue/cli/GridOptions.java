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
            description = "Image-stream thresholds of the grid (default: 1,0.995,0.99,0.98,0.95).")
    List<Double> image;

    @Option(names = "--grid-text", split = ",", paramLabel = "T,...",
            description = "Text-stream thresholds of the grid (default: 1,0.995,0.99,0.98,0.95).")
    List<Double> text;

    @Option(names = "--grid-decoder", split = ",", paramLabel = "T,...",
            description = "Decoder thresholds of the grid (default for ve: 1,0.99,0.98,0.97,0.95,0.9,0.85,0.8; "
                    + "caption, the decay schedule's theta: 1,0.99,0.98,0.96,0.95,0.9,0.85).")
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
