package dev.mue.backend.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.Prepared;
import dev.mue.api.plan.Plan;
import dev.mue.runtime.Runtime;
import dev.mue.planner.Planner;
import dev.mue.tck.harness.NativeMemory;
import org.junit.jupiter.api.Test;

/**
 * Native memory does not grow with requests ({@link NativeMemory}: 10,000 tiny requests after a
 * warm-up keep the resident set's high-water mark within a fixed bound), and no request's tensor
 * outlives its request in the weights' manager.
 *
 * <p>Runs in its own JVM (surefire execution {@code native-memory}) with a fixed, pre-touched heap
 * and few malloc arenas, so that the resident set moves with native memory only.
 */
class PtNativeMemoryTest {

    @Test
    void tenThousandRequestsKeepNativeMemoryBounded() {
        ModelConfig c = new ModelConfig("pt-tiny", 16, 1, 2, 2, 32, PtFixture.VOCAB.size(), 8, 4, 2, 16,
                new ResNetConfig(4, 4, new int[] {1, 1, 1}), 2.0, 1e-5);
        Model m = new Model(c, RandomWeights.generate(c, 3, 0.15), PtFixture.VOCAB, "pt-tiny");
        ExitPolicy p = ExitPolicy.builder().decoderThreshold(0.5).kvPolicy(KvPolicy.PROPAGATE).build();
        Plan plan = Planner.compile(m, p, new PlanShapes(8, 8));
        Prepared prepared = PtFixture.torch().prepare(plan);
        try (Executable ex = Runtime.executable(plan, prepared)) {
            PtLayerOps pt = (PtLayerOps) ((Prepared.Interpreted) prepared).ops();
            int weights = pt.weights().getManagedArrays().size();
            NativeMemory.assertBounded(ex, PtFixture.input(c, 9, 3));
            assertEquals(weights, pt.weights().getManagedArrays().size(), "no request tensor outlives its request");
        }
    }
}
