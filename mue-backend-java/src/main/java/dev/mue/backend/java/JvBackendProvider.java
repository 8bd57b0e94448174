package dev.mue.backend.java;

import com.google.auto.service.AutoService;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.Availability;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.BackendProvider;
import dev.mue.api.spi.Capabilities;
import dev.mue.api.spi.CostModel;
import java.util.EnumSet;
import java.util.List;

/**
 * Provider of the pure-Java backend, id {@code java}: always available, no native code.
 *
 * <p>Uses the Vector API kernels when the {@code jdk.incubator.vector} module is resolved (it is
 * whenever this module runs on the module path, or with {@code --add-modules jdk.incubator.vector}),
 * otherwise the scalar kernels, with a warning. The property {@code kernels=naive|vector} in
 * {@link BackendOptions#properties()} (or the system property {@code mue.java.kernels}) forces one.
 */
@AutoService(BackendProvider.class)
public final class JvBackendProvider implements BackendProvider {
    /** The id of this backend. */
    public static final String ID = "java";

    /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
    public JvBackendProvider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(List.of("cpu"), "float32", true, false, EnumSet.allOf(KvPolicy.class),
                EnumSet.allOf(EncoderMode.class), JvBackend.vectorApiMissing() ? List.of(JvBackend.SCALAR_NOTE) : List.of());
    }

    /**
     * Fitted to the benchmarks of 2026-12-07 on the project's 2-core AVX-512 VM (JDK 25, 2 threads):
     * a beam-5 caption of the default model in about 12 ms (dispatch-bound); an ofa-base 480 px
     * entailment pass (164 GFLOP) in a median 538 ms in {@code benchmarks/table.sh quick} and 584
     * ms in a later run beside torch, about 300 GFLOP/s, with recycled buffers.
     */
    @Override
    public CostModel costModel() {
        return new CostModel(45, 300, "2-core AVX-512 VM, 2026-12-07");
    }

    @Override
    public Availability availability() {
        return Availability.yes();
    }

    @Override
    public Backend create(BackendOptions options) {
        return new JvBackend(options);
    }
}
