package dev.mue.backend.torch;

import com.google.auto.service.AutoService;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.Availability;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.BackendProvider;
import dev.mue.api.spi.Capabilities;
import dev.mue.api.spi.CostModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;

/**
 * Provider of the PyTorch backend, id {@code torch}: libtorch through DJL, offline.
 *
 * <p>{@link #availability()} checks only that DJL's classes, the JNI jar and the natives are
 * present; the natives load in {@link #create}. Priority 5, below the Java backend's 10: on the
 * small models mue ships, per-op dispatch makes libtorch slower than the Java kernels, so torch
 * runs only when asked for ({@code --backend torch}, {@code -Dmue.backend=torch}).
 *
 * <p>Devices: the CPU, plus {@code cuda:N} when a host CUDA libtorch is named by
 * {@code PYTORCH_LIBRARY_PATH} and the engine reports GPUs. The first device listed is the one a
 * backend uses by default; {@link BackendOptions#device()} or {@code -Dmue.torch.device} picks
 * another.
 */
@AutoService(BackendProvider.class)
public final class PtBackendProvider implements BackendProvider {
    /** The id of this backend. */
    public static final String ID = "torch";

    /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
    public PtBackendProvider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public int priority() {
        return 5;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(devices(), "float32", true, false, EnumSet.allOf(KvPolicy.class),
                EnumSet.allOf(EncoderMode.class));
    }

    /**
     * The engine's devices once it has started; before that, without loading natives, the CPU and
     * the GPUs the NVIDIA driver lists when a host CUDA libtorch is configured. The default device
     * (the first GPU, else the CPU; or the one {@code -Dmue.torch.device} names) comes first.
     */
    static List<String> devices() {
        List<String> out;
        if (PtNatives.started()) {
            out = PtNatives.startedDevices();
        } else {
            out = new ArrayList<>(List.of("cpu"));
            String host = System.getProperty("PYTORCH_LIBRARY_PATH", System.getenv("PYTORCH_LIBRARY_PATH"));
            if (host != null && !host.isBlank()
                    && Files.exists(Path.of(host).resolve(System.mapLibraryName("torch_cuda")))) {
                for (int i = 0; i < driverGpus(); i++) {
                    out.add("cuda:" + i);
                }
            }
        }
        String chosen = System.getProperty(PtNatives.DEVICE_PROPERTY, "").trim();
        String first = out.contains(chosen) ? chosen : out.size() > 1 ? out.get(1) : "cpu";
        out.remove(first);
        out.add(0, first);
        return out;
    }

    private static int driverGpus() {
        Path gpus = Path.of("/proc/driver/nvidia/gpus");
        if (!Files.isDirectory(gpus)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(gpus)) {
            return (int) s.count();
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Fitted to the benchmarks on the project's 2-core AVX-512 VM (libtorch 2.7.1, 2 threads): a
     * beam-5 caption of the default model 3.0x the Java backend's time (per-op overhead;
     * 2026-12-04); an ofa-base 480 px entailment pass in a median 1275 ms against java's 584 in the
     * same run (2026-12-07, single images no longer convolved twice), about 135 GFLOP/s.
     */
    @Override
    public CostModel costModel() {
        return new CostModel(420, 135, "2-core AVX-512 VM, 2026-12-07");
    }

    @Override
    public Availability availability() {
        return PtNatives.check(PtNatives.djlLoader());
    }

    @Override
    public Backend create(BackendOptions options) {
        return new PtBackend(options);
    }
}
