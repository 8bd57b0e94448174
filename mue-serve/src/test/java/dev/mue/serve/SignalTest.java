package dev.mue.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a serving process drains it: the requests it holds are answered, then it exits 0 (not
 * the JVM's 143). The process is a child JVM on this test's class path ({@link ServeProcessFixture}).
 */
class SignalTest {
    @TempDir
    Path dir;

    @Test
    void sigtermAnswersWhatIsInFlightAndExitsZero() throws Exception {
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                ServeProcessFixture.class.getName()).redirectError(err.toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("port "), "no port line; stderr:\n" + Files.readString(err));
            OipClient client = new OipClient(URI.create("http://127.0.0.1:" + line.substring(5).strip()));
            List<CompletableFuture<OipClient.Reply>> pending = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                int sample = i;
                pending.add(CompletableFuture.supplyAsync(() -> client.post("/v2/models/caption/infer",
                        OipClient.captionRequest("t" + sample, Fixtures.sampleBytes(sample)))));
            }
            DrainTest.awaitQueueDepth(client, 2);
            p.destroy(); // SIGTERM
            for (int i = 0; i < 2; i++) {
                OipClient.Reply r = pending.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(200, r.status(), r::toString);
                assertEquals(Fixtures.captions().get(i).text(), r.json().path("outputs").path(0).path("data").path(0).asText());
            }
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the process did not exit after SIGTERM");
            assertEquals(0, p.exitValue(), () -> "exit status; stderr:\n" + read(err));
            assertTrue(read(err).contains("SIGTERM: draining"), read(err));
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
