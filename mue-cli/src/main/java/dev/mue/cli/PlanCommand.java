package dev.mue.cli;

import dev.mue.api.model.Model;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanCompiler;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mue plan [--dot]}: compiles the plan for a model and policy and prints it. */
@Command(name = "plan", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = "Compile the plan (static graph with exit branches) for the model and policy and print it.")
final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dot", description = "Print Graphviz DOT instead of the listing.")
    boolean dot;

    @Mixin
    SessionOptions session;

    @Override
    public Integer call() {
        Model m = session.loadModel();
        Plan plan = PlanCompiler.load().compile(m, session.policy(), session.shapes(m));
        spec.commandLine().getOut().print(dot ? plan.toDot() : plan.describe());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
