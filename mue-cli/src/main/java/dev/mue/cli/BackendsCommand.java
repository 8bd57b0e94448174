package dev.mue.cli;

import dev.mue.api.spi.Availability;
import dev.mue.api.spi.BackendProvider;
import dev.mue.api.model.Model;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.Backends;
import dev.mue.api.spi.CostModel;
import dev.mue.planner.Planner;
import dev.mue.runtime.Workloads;
import dev.mue.session.decode.DecodingOptions;
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

    @picocli.CommandLine.Option(names = "--model", paramLabel = "DIR",
            description = "Model bundle whose workload the cost estimates are for; default: the bundled model.")
    java.nio.file.Path model;

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
            CostModel m = p.costModel();
            out.println(" ".repeat(width + 2) + "cost model: " + (m == null ? "none (ranked by priority)" : m.describe()));
        }
        estimates(out, all);
        out.flush();
        return 0;
    }

    /** What automatic selection (no backend named) would pick for the model, and each estimate. */
    private void estimates(PrintWriter out, List<Backends.ProviderStatus> all) {
        Model m = SessionOptions.loadModel(model);
        Plan plan = Planner.compile(m, ExitPolicy.full(), PlanShapes.defaults(m.config()));
        DecodingOptions d = DecodingOptions.captioning(m.config());
        CostModel.Workload w = Workloads.caption(plan, 1, d.beamSize(), d.maxLength());
        out.println();
        out.println(String.format(java.util.Locale.ROOT, "estimated for %s, full depth (%d plan nodes, %.2f GFLOP):",
                w.what(), w.nodes(), w.flops() / 1e9));
        for (Backends.ProviderStatus s : all) {
            CostModel c = s.provider().costModel();
            if (s.availability().available() && c != null) {
                out.println(String.format(java.util.Locale.ROOT, "  %-8s %10.1f ms", s.provider().id(),
                        1e3 * c.seconds(w)));
            }
        }
        String requested = Backends.requestedId(null);
        out.println(requested != null ? "selected: " + requested + " (named by mue.backend or MUE_BACKEND)"
                : "auto selects: " + Backends.choose(null, w).id() + " (name one with --backend, -Dmue.backend or "
                        + "MUE_BACKEND)");
    }

    private static String capabilities(BackendProvider p) {
        try {
            return p.capabilities().describe();
        } catch (RuntimeException | LinkageError e) {
            return "capabilities unknown: " + e;
        }
    }
}
