package dev.mue.cli;

import dev.mue.session.MueSession;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mue entail IMAGE --hypothesis T [--premise T]}: visual entailment (yes, no or maybe). */
@Command(name = "entail", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = "Visual entailment: does the image (and premise) imply the hypothesis? yes, no or maybe.")
final class EntailCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "Image file.")
    Path image;

    @Option(names = "--hypothesis", required = true, paramLabel = "TEXT", description = "The hypothesis text.")
    String hypothesis;

    @Option(names = "--premise", paramLabel = "TEXT", description = "An optional premise text.")
    String premise;

    @Mixin
    OutputOptions output;

    @Mixin
    SessionOptions session;

    @Override
    public Integer call() {
        try (MueSession s = session.open()) {
            ResultPrinter p = new ResultPrinter(s, spec.commandLine().getOut(), output);
            p.header(dev.mue.api.policy.Task.ENTAIL);
            p.entailment(image.toString(), hypothesis, premise, s.entail(image, hypothesis, premise));
        }
        return 0;
    }
}
