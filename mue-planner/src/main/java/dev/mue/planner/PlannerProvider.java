package dev.mue.planner;

import com.google.auto.service.AutoService;
import dev.mue.api.model.Model;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanCompiler;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;

/** The {@link PlanCompiler} service: delegates to {@link Planner#compile}. */
@AutoService(PlanCompiler.class)
public final class PlannerProvider implements PlanCompiler {

    /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
    public PlannerProvider() {
    }

    @Override
    public Plan compile(Model model, ExitPolicy policy, PlanShapes shapes) {
        return Planner.compile(model, policy, shapes);
    }
}
