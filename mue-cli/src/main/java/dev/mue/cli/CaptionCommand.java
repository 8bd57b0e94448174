package dev.mue.cli;

import dev.mue.api.GenerationResult;
import dev.mue.session.MueSession;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code mue caption IMAGE...}: captions images, one at a time or as one batch. */
@Command(name = "caption", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = "Caption images (OFA prompt \" what does the image describe?\") with MuE exits.")
final class CaptionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files (PNG, JPEG, GIF, BMP, TIFF, WebP).")
    List<Path> images;

    @Option(names = "--batch", description = "Caption all images as one batch instead of one at a time.")
    boolean batch;

    @Mixin
    OutputOptions output;

    @Mixin
    SessionOptions session;

    @Override
    public Integer call() {
        try (MueSession s = session.open()) {
            ResultPrinter p = new ResultPrinter(s, spec.commandLine().getOut(), output);
            p.header(dev.mue.api.policy.Task.CAPTION);
            if (batch) {
                List<GenerationResult> rs = s.captionBatch(images);
                for (int i = 0; i < images.size(); i++) {
                    p.caption(images.get(i).toString(), rs.get(i));
                }
            } else {
                for (Path image : images) {
                    p.caption(image.toString(), s.caption(image));
                }
            }
        }
        return 0;
    }
}
