package dev.mue.backend.torch;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.mue.api.BackendUnavailableException;
import dev.mue.api.spi.Availability;
import dev.mue.api.spi.BackendOptions;
import java.io.File;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the PyTorch natives come from and the one place the engine is started (design §6, offline
 * rules): DJL runs with {@code ai.djl.offline=true}, the CPU natives are the
 * {@code pytorch-native-cpu} jar (classifier {@code linux-x86_64}) on the class path and the JNI
 * glue the {@code pytorch-jni} jar; a host libtorch (for CUDA) is used when
 * {@code PYTORCH_LIBRARY_PATH} names one. Every DJL failure becomes a
 * {@link BackendUnavailableException} with the reason.
 */
final class PtNatives {
    /** DJL's name of the engine. */
    static final String ENGINE = "PyTorch";
    /** The libtorch version the bundled natives and the JNI jar are built for. */
    static final String TORCH_VERSION = "2.7.1";
    /** System property that picks the device when {@link BackendOptions#device()} is empty. */
    static final String DEVICE_PROPERTY = "mue.torch.device";

    static final String NATIVE_RESOURCE = "native/lib/pytorch.properties";
    static final String JNI_RESOURCE = "jnilib/pytorch.properties";
    private static final String NUM_THREADS = "ai.djl.pytorch.num_threads";
    private static final String NUM_INTEROP_THREADS = "ai.djl.pytorch.num_interop_threads";
    private static final String TROUBLESHOOTING = " (see README, Troubleshooting)";

    private static final Logger LOG = LoggerFactory.getLogger(PtNatives.class);

    private static Engine engine;
    private static String failure;

    private PtNatives() {
    }

    /** The class loader DJL looks for resources with: the thread's context loader, else DJL's own. */
    static ClassLoader djlLoader() {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        return cl != null ? cl : PtNatives.class.getClassLoader();
    }

    /**
     * Whether the engine can start, without loading any native code: DJL's classes, the JNI jar
     * and either a host libtorch or the bundled CPU natives for this platform.
     */
    static Availability check(ClassLoader loader) {
        synchronized (PtNatives.class) {
            if (failure != null) {
                return Availability.no(failure);
            }
        }
        for (String c : new String[] {"ai.djl.engine.Engine", "ai.djl.pytorch.engine.PtEngineProvider"}) {
            try {
                Class.forName(c, false, PtNatives.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                return Availability.no("DJL class " + c + " not found: put ai.djl:api and ai.djl.pytorch:pytorch-engine "
                        + "0.36.0 on the module or class path" + TROUBLESHOOTING);
            }
        }
        if (resource(loader, JNI_RESOURCE) == null) {
            return Availability.no("the DJL JNI library (ai.djl.pytorch:pytorch-jni:" + TORCH_VERSION
                    + "-0.36.0) is not on the class or module path" + TROUBLESHOOTING);
        }
        String host = env("PYTORCH_LIBRARY_PATH");
        if (host != null && !host.isBlank()) {
            Path dir = Path.of(host);
            if (!Files.isDirectory(dir)) {
                return Availability.no("PYTORCH_LIBRARY_PATH=" + host + " is not a directory");
            }
            if (!Files.exists(dir.resolve(System.mapLibraryName("torch")))) {
                return Availability.no("PYTORCH_LIBRARY_PATH=" + host + " holds no " + System.mapLibraryName("torch"));
            }
            return Availability.yes();
        }
        if (!bundledPlatform()) {
            return Availability.no("the bundled PyTorch natives are for linux-x86_64 only (this is "
                    + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                    + "); set PYTORCH_LIBRARY_PATH to a host libtorch " + TORCH_VERSION);
        }
        if (resource(loader, NATIVE_RESOURCE) == null) {
            return Availability.no("the PyTorch natives (ai.djl.pytorch:pytorch-native-cpu:" + TORCH_VERSION
                    + ":linux-x86_64) are not on the class path; that jar must be on the class path, not the "
                    + "module path (its automatic module name is invalid)" + TROUBLESHOOTING);
        }
        return Availability.yes();
    }

    /** Looks a resource up the way DJL does: through one class loader, the context loader by default. */
    private static URL resource(ClassLoader loader, String name) {
        return loader == null ? ClassLoader.getSystemResource(name) : loader.getResource(name);
    }

    private static boolean bundledPlatform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    private static String env(String name) {
        String v = System.getProperty(name);
        return v != null ? v : System.getenv(name);
    }

    /** Whether the engine has been started in this JVM. */
    static synchronized boolean started() {
        return engine != null;
    }

    /** The devices of the started engine: {@code cpu}, then {@code cuda:N} for each GPU it reports. */
    static synchronized List<String> startedDevices() {
        List<String> out = new ArrayList<>(List.of("cpu"));
        if (engine != null) {
            for (int i = 0; i < engine.getGpuCount(); i++) {
                out.add("cuda:" + i);
            }
        }
        return out;
    }

    /**
     * Starts the engine once per JVM (offline, threads from {@code options}) and sets the intra-op
     * thread count for this backend.
     *
     * @throws BackendUnavailableException with the reason when the natives cannot be loaded
     */
    static synchronized Engine start(BackendOptions options) {
        int threads = threads(options);
        if (engine == null) {
            if (failure != null) {
                throw new BackendUnavailableException("backend 'torch' is not available: " + failure);
            }
            Availability a = check(djlLoader());
            if (!a.available()) {
                throw new BackendUnavailableException("backend 'torch' is not available: " + a.reason());
            }
            // Before the engine class initialises: nothing may be downloaded at run time.
            System.setProperty("ai.djl.offline", "true");
            setIfAbsent("OPT_OUT_TRACKING", "true");
            setIfAbsent(NUM_THREADS, Integer.toString(threads));
            setIfAbsent(NUM_INTEROP_THREADS, Integer.toString(threads));
            chooseCacheDir();
            try {
                Engine e = Engine.getEngine(ENGINE);
                LOG.info("PyTorch {} started through DJL {} (offline), {} GPU(s)", e.getVersion(),
                        Engine.getDjlVersion(), e.getGpuCount());
                engine = e;
            } catch (RuntimeException | LinkageError e) {
                failure = "the PyTorch engine failed to start: " + describe(e) + TROUBLESHOOTING;
                throw new BackendUnavailableException("backend 'torch' is not available: " + failure, e);
            }
        }
        if (options.threads() > 0 || System.getProperty(NUM_THREADS) == null) {
            JniUtils.setNumThreads(threads);
        }
        return engine;
    }

    private static int threads(BackendOptions options) {
        if (options.threads() > 0) {
            return options.threads();
        }
        Integer p = Integer.getInteger(NUM_THREADS);
        return p != null && p > 0 ? p : options.effectiveThreads();
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null && System.getenv(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** DJL extracts the natives under {@code ~/.djl.ai}; use the temp folder when home is not writable. */
    private static void chooseCacheDir() {
        if (env("ENGINE_CACHE_DIR") != null || env("DJL_CACHE_DIR") != null) {
            return;
        }
        File home = new File(System.getProperty("user.home", ""));
        if (!home.isDirectory() || !home.canWrite()) {
            Path tmp = Path.of(System.getProperty("java.io.tmpdir"), "mue-djl-" + System.getProperty("user.name", "user"));
            System.setProperty("ENGINE_CACHE_DIR", tmp.toString());
            LOG.info("home folder not writable: PyTorch natives go to {}", tmp);
        }
    }

    /** The exception and its root cause, on one line. */
    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String s = e.getClass().getSimpleName() + ": " + e.getMessage();
        return root == e ? s : s + " (caused by " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }

    /**
     * The device to run on: {@code requested} ({@code cpu}, {@code cuda}, {@code cuda:N} or
     * {@code gpu:N}), else the {@code mue.torch.device} property, else the first GPU the engine
     * reports, else the CPU.
     */
    static Device device(Engine e, String requested) {
        String r = requested == null || requested.isBlank() ? System.getProperty(DEVICE_PROPERTY, "") : requested;
        r = r.trim().toLowerCase(Locale.ROOT);
        int gpus = e.getGpuCount();
        if (r.isEmpty()) {
            return gpus > 0 ? Device.gpu(0) : Device.cpu();
        }
        if (r.equals("cpu")) {
            return Device.cpu();
        }
        int id = -1;
        if (r.equals("cuda") || r.equals("gpu")) {
            id = 0;
        } else if (r.startsWith("cuda:") || r.startsWith("gpu:")) {
            try {
                id = Integer.parseInt(r.substring(r.indexOf(':') + 1));
            } catch (NumberFormatException ex) {
                id = -1;
            }
        }
        if (id < 0) {
            throw new BackendUnavailableException("unknown torch device '" + requested + "'; use cpu, cuda or cuda:N");
        }
        if (id >= gpus) {
            throw new BackendUnavailableException("torch device cuda:" + id + " is not available: the engine reports "
                    + gpus + " GPU(s); the bundled natives are CPU-only, set PYTORCH_LIBRARY_PATH to a CUDA libtorch "
                    + TORCH_VERSION + " for GPUs");
        }
        return Device.gpu(id);
    }

    /** mue's name of a DJL device: {@code cpu} or {@code cuda:N}. */
    static String name(Device d) {
        return d.isGpu() ? "cuda:" + d.getDeviceId() : "cpu";
    }
}
