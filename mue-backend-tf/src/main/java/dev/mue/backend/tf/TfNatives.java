package dev.mue.backend.tf;

import dev.mue.api.BackendUnavailableException;
import dev.mue.api.InvalidInputException;
import dev.mue.api.MueException;
import dev.mue.api.spi.Availability;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.TensorFlow;

/**
 * TensorFlow's natives: whether they are present (without loading them), loading them once, and
 * the one place where TensorFlow's native errors become mue exceptions.
 */
final class TfNatives {
    private static final Logger LOG = LoggerFactory.getLogger(TfNatives.class);
    /** Where JavaCPP looks for the natives of {@code tensorflow-core-native}, per classifier. */
    private static final String RESOURCE_DIR = "org/tensorflow/internal/c_api/";
    private static final String JNI_LIBRARY = "libjnitensorflow.so";
    private static volatile String version;

    private TfNatives() {
    }

    private static ClassLoader loader() {
        ClassLoader l = TfNatives.class.getClassLoader();
        return l != null ? l : ClassLoader.getSystemClassLoader();
    }

    /** The classifiers whose natives are on the class or module path, e.g. {@code linux-x86_64}. */
    static List<String> platforms() {
        List<String> out = new ArrayList<>();
        for (String p : List.of(platform(), platform() + "-gpu")) {
            if (loader().getResource(RESOURCE_DIR + p + "/" + JNI_LIBRARY) != null
                    || ClassLoader.getSystemClassLoader().getResource(RESOURCE_DIR + p + "/" + JNI_LIBRARY) != null) {
                out.add(p);
            }
        }
        return out;
    }

    private static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macosx" : os.startsWith("windows")
                ? "windows" : os;
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("aarch64") ? "arm64" : arch;
        return o + "-" + a;
    }

    /** Devices the natives support: the CPU, plus the first GPU with the CUDA build. */
    static List<String> devices() {
        return platforms().stream().anyMatch(p -> p.endsWith("-gpu")) ? List.of("cpu", "gpu:0") : List.of("cpu");
    }

    /** Whether the backend can start here; never loads the natives. */
    static Availability check() {
        try {
            Class.forName("org.tensorflow.TensorFlow", false, loader());
        } catch (ClassNotFoundException | LinkageError e) {
            return Availability.no("TensorFlow Java (org.tensorflow:tensorflow-core-api:1.1.0) is not on the class or "
                    + "module path");
        }
        if (platforms().isEmpty()) {
            return Availability.no("no TensorFlow natives for " + platform() + ": put org.tensorflow:tensorflow-core-native"
                    + ":1.1.0 with classifier " + platform() + " (or " + platform() + "-gpu) on the class path");
        }
        return Availability.yes();
    }

    /** Loads the natives (once) and returns TensorFlow's version. */
    static String load() {
        String v = version;
        if (v == null) {
            synchronized (TfNatives.class) {
                v = version;
                if (v == null) {
                    Availability a = check();
                    if (!a.available()) {
                        throw new BackendUnavailableException("backend 'tf' is not available: " + a.reason());
                    }
                    // JavaCPP checks the process's resident size on every native allocation to
                    // trigger GCs; TF's tensors are closed explicitly here, and the check (a read of
                    // /proc per tensor) dominated small runs.
                    if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null) {
                        System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
                    }
                    try {
                        v = TensorFlow.version();
                    } catch (RuntimeException | LinkageError e) {
                        throw new BackendUnavailableException("backend 'tf': the TensorFlow natives failed to load ("
                                + e + "); see README, Troubleshooting", e);
                    }
                    LOG.info("TensorFlow {} loaded ({})", v, platforms());
                    version = v;
                }
            }
        }
        return v;
    }

    /**
     * Maps an exception thrown by TensorFlow into a mue exception: TF's invalid-argument errors
     * become {@link InvalidInputException}, the rest a {@link MueException} naming {@code what}.
     */
    static RuntimeException translate(String what, RuntimeException e) {
        return translate(what, e, true);
    }

    /**
     * As {@link #translate(String, RuntimeException)}; {@code fromInput} says whether an
     * invalid-argument error can come from the caller's input (a run) or only from this backend (a
     * graph being built).
     */
    static RuntimeException translate(String what, RuntimeException e, boolean fromInput) {
        if (e instanceof MueException) {
            return e;
        }
        if (fromInput && e instanceof org.tensorflow.exceptions.TFInvalidArgumentException) {
            return new InvalidInputException("tf: " + what + ": " + e.getMessage(), e);
        }
        return new MueException("tf: " + what + " failed: " + e, e);
    }
}
