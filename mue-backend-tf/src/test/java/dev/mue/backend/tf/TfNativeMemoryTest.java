package dev.mue.backend.tf;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.Executable;
import dev.mue.runtime.Runtime;
import dev.mue.planner.Planner;
import dev.mue.tck.harness.NativeMemory;
import org.junit.jupiter.api.Test;

/**
 * Native memory does not grow with requests ({@link NativeMemory}): 10,000 tiny requests after a
 * warm-up, each closing its batch and stepper (and so every TF tensor it made), keep the resident
 * set's high-water mark within a fixed bound.
 *
 * <p>Runs in its own JVM (surefire execution {@code native-memory}) with a fixed, pre-touched heap
 * and few malloc arenas, so that the resident set moves with native memory only.
 */
class TfNativeMemoryTest {

    @Test
    void tenThousandRequestsKeepNativeMemoryBounded() {
        ModelConfig c = new ModelConfig("tf-tiny", 16, 1, 2, 2, 32, TfFixture.VOCAB.size(), 8, 4, 2, 16,
                new ResNetConfig(4, 4, new int[] {1, 1, 1}), 2.0, 1e-5);
        Model m = TfFixture.model(c, 3);
        ExitPolicy p = ExitPolicy.builder().decoderThreshold(0.5).kvPolicy(KvPolicy.PROPAGATE).build();
        try (Executable ex = Runtime.prepare(TfFixture.graph(), Planner.compile(m, p, new PlanShapes(8, 8)))) {
            NativeMemory.assertBounded(ex, TfFixture.input(c, 9, 3));
        }
    }
}
