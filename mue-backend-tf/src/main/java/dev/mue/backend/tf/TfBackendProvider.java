package dev.mue.backend.tf;

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

/**
 * Provider of the TensorFlow backend, id {@code tf}: TensorFlow Java 1.1.0 (TF 2.18), offline.
 *
 * <p>{@link #availability()} checks only that the API classes and the natives for this platform
 * are present; the natives load in {@link #create}. Priority 3, below the Java backend's 10: on the
 * small models mue ships, TensorFlow's per-op and per-function overhead makes it slower than the
 * Java kernels, so {@code tf} runs only when asked for ({@code --backend tf}).
 *
 * <p>Backend properties ({@link BackendOptions#properties()}, or system properties prefixed
 * {@code mue.tf.}): {@code mode=graph|eager} (default graph: the compiled graphs with {@code If}
 * exits; eager: the same ops driven from the host, the tests' second oracle).
 */
@AutoService(BackendProvider.class)
public final class TfBackendProvider implements BackendProvider {
    /** The id of this backend. */
    public static final String ID = "tf";

    /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
    public TfBackendProvider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public int priority() {
        return 3;
    }

    @Override
    public Capabilities capabilities() {
        // Each example's stream is its own chain of If ops, and a decoding step's rows go on to a
        // layer only while they stay (gathered), so an exited example or row runs no further
        // layer: compaction in effect.
        return new Capabilities(TfNatives.devices(), "float32", true, true, EnumSet.allOf(KvPolicy.class),
                EnumSet.allOf(EncoderMode.class));
    }

    /**
     * Fitted to the benchmarks on the project's 2-core AVX-512 VM (TF 2.18, 2 threads) on
     * 2026-12-07, after a decoding step's rows became one batched chain and LayerNorm/GELU float32:
     * a beam-5 caption of the default-sized model ({@code CaptionBenchmark}, mue-demo) 3.6x the
     * Java backend's time (18.8 against 5.3 ms; it was 4.2x with one chain per row), and an
     * ofa-base 480 px entailment pass (164 GFLOP) in a median 646 ms in {@code benchmarks/table.sh
     * quick} on a fresh clone after the LM-head fix (764 ms before it), about 250 GFLOP/s.
     */
    @Override
    public CostModel costModel() {
        return new CostModel(160, 250, "2-core AVX-512 VM, 2026-12-07");
    }

    @Override
    public Availability availability() {
        return TfNatives.check();
    }

    @Override
    public Backend create(BackendOptions options) {
        return new TfBackend(options);
    }
}
