package dev.mue.tck.check;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The CPU features that decide which float32 kernels the JDK and the native libraries run, named
 * in the TCK's summary line (e.g. {@code cpu amd64 avx2,fma}) so that a report from another machine
 * can be read: SLEEF, oneDNN and the Vector API each choose their code by these features, so the
 * last bits of a result, and its speed, belong to them.
 *
 * <p>Read from {@code /proc/cpuinfo} (the {@code flags} line on x86-64, {@code Features} on
 * aarch64); elsewhere, or when it cannot be read, the line says {@code cpu ARCH (features unknown)}.
 */
public final class CpuFeatures {
    /** The features worth naming, in print order: the ones kernels dispatch on. */
    private static final List<String> RELEVANT = List.of(
            "sse4_2", "avx", "avx2", "fma", "f16c",
            "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile",
            "asimd", "asimdhp", "fphp", "sve", "sve2", "bf16", "i8mm");

    private static final String DESCRIPTION = describe(readCpuInfo(), System.getProperty("os.arch", "unknown"));

    private CpuFeatures() {
    }

    /** This machine's description, e.g. {@code cpu amd64 avx2,fma}; computed once. */
    public static String describe() {
        return DESCRIPTION;
    }

    /**
     * The description for a {@code /proc/cpuinfo} text (null when unreadable) on architecture
     * {@code arch}: the relevant features of the first processor entry, in a fixed order.
     */
    public static String describe(String cpuinfo, String arch) {
        Set<String> present = new LinkedHashSet<>();
        if (cpuinfo != null) {
            for (String line : cpuinfo.split("\n")) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                if (key.equals("flags") || key.equals("features")) {
                    for (String f : line.substring(colon + 1).trim().split("\\s+")) {
                        present.add(f.toLowerCase(Locale.ROOT));
                    }
                    break; // every core of one machine has the same features
                }
            }
        }
        List<String> named = new ArrayList<>();
        for (String f : RELEVANT) {
            if (present.contains(f)) {
                named.add(f);
            }
        }
        if (present.isEmpty()) {
            return "cpu " + arch + " (features unknown)";
        }
        return "cpu " + arch + " " + (named.isEmpty() ? "(no vector features)" : String.join(",", named));
    }

    private static String readCpuInfo() {
        try {
            return Files.readString(Path.of("/proc/cpuinfo"), StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
