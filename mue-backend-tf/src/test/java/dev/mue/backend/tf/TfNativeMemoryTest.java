package dev.mue.backend.tf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.planner.Planner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Native memory does not grow with requests (issue §5): after a warm-up, 10,000 tiny requests
 * (encode, two decoding steps around a beam reorder, every eighth a scoring pass), each closing its
 * batch and stepper (and so every TF tensor it made), must keep the resident set's high-water mark
 * within a fixed bound.
 *
 * <p>Runs in its own JVM (surefire execution {@code native-memory}) with a fixed, pre-touched heap
 * and few malloc arenas, so that the resident set moves with native memory only. It still moves in
 * steps (glibc keeps freed memory for reuse), so the test compares the highest samples of the end
 * of the warm-up and of the end of the run: a leak of even a few kB per request would exceed the
 * bound, allocator steps do not.
 */
class TfNativeMemoryTest {
    private static final int WARM_UP = 2_000;
    private static final int REQUESTS = 10_000;
    private static final int SAMPLE_EVERY = 100;
    private static final long BOUND_KB = 64 * 1024;

    static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    @Test
    void tenThousandRequestsKeepNativeMemoryBounded() {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux /proc");
        ModelConfig c = new ModelConfig("tf-tiny", 16, 1, 2, 2, 32, TfFixture.VOCAB.size(), 8, 4, 2, 16,
                new ResNetConfig(4, 4, new int[] {1, 1, 1}), 2.0, 1e-5);
        Model m = TfFixture.model(c, 3);
        ExitPolicy p = ExitPolicy.builder().decoderThreshold(0.5).kvPolicy(KvPolicy.PROPAGATE).build();
        EncoderInput in = TfFixture.input(c, 9, 3);
        try (Executable ex = TfFixture.graph().prepare(Planner.compile(m, p, new PlanShapes(8, 8)))) {
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
            long after = samples.subList(samples.size() - perWindow, samples.size()).stream()
                    .mapToLong(Long::longValue).max().orElseThrow();
            StringBuilder trace = new StringBuilder();
            for (int s = warmEnd - 1; s < samples.size(); s += 2_000 / SAMPLE_EVERY) {
                trace.append(' ').append(samples.get(s) / 1024);
            }
            System.out.printf("native memory: VmRSS high-water %d kB at the end of %d warm-up requests, %d kB after "
                    + "%d more (growth %d kB, bound %d kB); every 2000 requests (MB):%s; %.1f s, %.2f ms per request%n",
                    before, WARM_UP, after, REQUESTS, after - before, BOUND_KB, trace, seconds,
                    seconds * 1000 / REQUESTS);
            assertTrue(after - before < BOUND_KB, "resident set grew by " + (after - before) + " kB over "
                    + REQUESTS + " requests (bound " + BOUND_KB + " kB)");
        }
    }

    private static void request(Executable ex, EncoderInput in, int i) {
        try (EncodedBatch enc = ex.encode(List.of(in)); DecoderStepper s = ex.decoder(enc, new int[] {0, 0})) {
            s.step(new int[] {0, 0}, 1.0);
            s.reorder(new int[] {1, 0});
            s.step(new int[] {4 + i % 10, 5}, 0.5);
            if (i % 8 == 0) {
                ex.score(enc, new int[] {0}, new int[][] {{0, 4 + i % 10, 5}}, new int[] {1}, 0.5);
            }
        }
    }
}
