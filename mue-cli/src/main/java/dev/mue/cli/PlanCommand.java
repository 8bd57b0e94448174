package dev.mue.cli;

import dev.mue.api.model.Model;
import dev.mue.api.plan.Plan;
import dev.mue.planner.Planner;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.api.policy.Task;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.Backends;
import dev.mue.api.spi.Executable;
import dev.mue.runtime.Runtime;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mue plan [--dot]}: compiles the plan for a model and policy and prints it; with a backend
 * named whose executables describe their compiled form ({@code --backend tf}), that too.
 */
@Command(name = "plan", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = "Compile the plan (static graph with exit branches) for the model and policy and print it.")
final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dot", description = "Print Graphviz DOT instead of the listing.")
    boolean dot;

    @Option(names = "--task", defaultValue = "caption", paramLabel = "TASK",
            description = "Whose policy to compile: caption or ve (entailment). Default: ${DEFAULT-VALUE}.")
    String task;

    @Mixin
    SessionOptions session;

    @Override
    public Integer call() {
        session.validate();
        Model m = session.loadModel();
        PolicyChoice choice = session.choice(Task.parse(task), m, session.filePolicies());
        Plan plan = Planner.compile(m, choice.policy(), session.shapes(m));
        if (!dot) {
            spec.commandLine().getOut().println("policy from: " + choice.describeSource());
        }
        spec.commandLine().getOut().print(dot ? plan.toDot() : plan.describe());
        if (!dot) {
            compiled(plan).ifPresent(spec.commandLine().getOut()::print);
        }
        spec.commandLine().getOut().flush();
        return 0;
    }

    /**
     * With a backend named (--backend, mue.backend or MUE_BACKEND) that compiles plans (the tf
     * backend: its graphs' If nodes), what it compiled ({@link Executable#describeCompiled()});
     * otherwise nothing.
     */
    private Optional<String> compiled(Plan plan) {
        String id = Backends.requestedId(session.backend);
        if (id == null) {
            return Optional.empty();
        }
        try (Backend b = Backends.create(id, BackendOptions.defaults().withThreads(session.threads));
                Executable ex = Runtime.prepare(b, plan)) {
            return ex.describeCompiled();
        }
    }
}
