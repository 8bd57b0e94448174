package dev.mue.tck.harness;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;

/**
 * Native memory does not grow with requests: after a warm-up of {@value #WARM_UP}, {@value #REQUESTS}
 * tiny requests (encode, two decoding steps around a beam reorder, every eighth a scoring pass),
 * each closing its batch and stepper, must keep the resident set's high-water mark within
 * {@value #BOUND_KB} kB.
 *
 * <p>Meant for a JVM of its own (a surefire execution) with a fixed, pre-touched heap and few
 * malloc arenas, so that the resident set moves with native memory only. It still moves in steps
 * (glibc keeps freed memory for reuse), so the check compares the highest samples at the end of
 * the warm-up and at the end of the run: a leak of even a few kB per request exceeds the bound,
 * allocator steps do not. Linux only ({@code /proc/self/status}); elsewhere the test is skipped.
 */
public final class NativeMemory {
    /** Requests before the baseline is taken. */
    public static final int WARM_UP = 2_000;
    /** Requests measured. */
    public static final int REQUESTS = 10_000;
    /** Allowed growth of the resident set's high-water mark, kB. */
    public static final long BOUND_KB = 64 * 1024;
    private static final int SAMPLE_EVERY = 100;

    private NativeMemory() {
    }

    /** The resident set size of this process, kB. */
    public static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    /**
     * Runs the requests on {@code ex} with {@code in} (an input of a model whose token ids 4..15 and
     * 0 exist), prints one line with the figures, and fails if the resident set grew past the
     * bound.
     */
    public static void assertBounded(Executable ex, EncoderInput in) {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux /proc");
        List<Long> samples = new ArrayList<>();
        long start = 0;
        for (int i = 0; i < WARM_UP + REQUESTS; i++) {
            if (i == WARM_UP) {
                start = System.nanoTime();
            }
            request(ex, in, i);
            if (i % SAMPLE_EVERY == SAMPLE_EVERY - 1) {
                samples.add(rssKb());
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int perWindow = 1_000 / SAMPLE_EVERY;
        int warmEnd = WARM_UP / SAMPLE_EVERY;
        long before = samples.subList(warmEnd - perWindow, warmEnd).stream().mapToLong(Long::longValue).max()
                .orElseThrow();
        long after = samples.subList(samples.size() - perWindow, samples.size()).stream().mapToLong(Long::longValue)
                .max().orElseThrow();
        StringBuilder trace = new StringBuilder();
        for (int s = warmEnd - 1; s < samples.size(); s += 2_000 / SAMPLE_EVERY) {
            trace.append(' ').append(samples.get(s) / 1024);
        }
        System.out.printf(Locale.ROOT, "native memory: VmRSS high-water %d kB at the end of %d warm-up requests, %d kB "
                + "after %d more (growth %d kB, bound %d kB); every 2000 requests (MB):%s; %.1f s, %.2f ms per "
                + "request%n", before, WARM_UP, after, REQUESTS, after - before, BOUND_KB, trace, seconds,
                seconds * 1000 / REQUESTS);
        assertTrue(after - before < BOUND_KB, "resident set grew by " + (after - before) + " kB over " + REQUESTS
                + " requests (bound " + BOUND_KB + " kB)");
    }

    private static void request(Executable ex, EncoderInput in, int i) {
        try (EncodedBatch enc = ex.encode(List.of(in)); DecoderStepper s = ex.decoder(enc, new int[] {0, 0}, 16)) {
            s.step(new int[] {0, 0});
            s.reorder(new int[] {1, 0});
            s.step(new int[] {4 + i % 10, 5});
            if (i % 8 == 0) {
                ex.score(enc, new int[] {0}, new int[][] {{0, 4 + i % 10, 5}}, new int[] {1});
            }
        }
    }
}
