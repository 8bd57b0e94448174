package dev.mue.api.plan;

import dev.mue.api.BackendUnavailableException;
import dev.mue.api.model.Model;
import dev.mue.api.policy.ExitPolicy;
import java.util.ServiceLoader;

/**
 * Service interface of the planner, so that the API facade can compile plans without a
 * compile-time dependency on {@code dev.mue.planner} (which provides it).
 */
public interface PlanCompiler {

    /** Validates the model's weights and compiles an immutable plan. */
    Plan compile(Model model, ExitPolicy policy, PlanShapes shapes);

    /** The planner found on the class or module path. */
    static PlanCompiler load() {
        return ServiceLoader.load(PlanCompiler.class, PlanCompiler.class.getClassLoader()).findFirst()
                .or(() -> ServiceLoader.load(PlanCompiler.class).findFirst())
                .orElseThrow(() -> new BackendUnavailableException(
                        "no PlanCompiler found: put mue-planner on the class or module path"));
    }
}
