package dev.mue.cli;

import dev.mue.api.spi.Availability;
import dev.mue.api.spi.BackendProvider;
import dev.mue.api.spi.Backends;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code mue backends}: every backend provider found, its priority, availability and capabilities. */
@Command(name = "backends", usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = "List the backend providers found, whether each is available, and what it supports.")
final class BackendsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<Backends.ProviderStatus> all = Backends.statuses();
        if (all.isEmpty()) {
            out.println("no backend providers found (put mue-backend-java or another backend on the module path)");
        }
        int width = all.stream().mapToInt(s -> s.provider().id().length()).max().orElse(4);
        for (Backends.ProviderStatus s : all) {
            BackendProvider p = s.provider();
            Availability a = s.availability();
            out.println(String.format(java.util.Locale.ROOT, "%-" + width + "s  priority %-4d %s", p.id(), p.priority(),
                    a.available() ? "available" : "unavailable: " + a.reason()));
            out.println(" ".repeat(width + 2) + capabilities(p));
        }
        out.flush();
        return 0;
    }

    private static String capabilities(BackendProvider p) {
        try {
            return p.capabilities().describe();
        } catch (RuntimeException | LinkageError e) {
            return "capabilities unknown: " + e;
        }
    }
}
