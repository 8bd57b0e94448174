package dev.mue.benchmarks.serve;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.serve.MueServer;
import dev.mue.serve.ServeConfig;
import dev.mue.serve.SessionSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A closed-loop load test of {@code mue serve} over loopback: for full depth and MuE (the bundle's
 * calibrated policy), with dynamic batching off ({@code --max-batch 1}) and on, it runs 1, 8 and
 * 32 clients, each sending caption requests (the six test-split samples in turn) back to back for
 * a fixed time, and prints throughput, p50 and p99 latency, the mean batch size and failures as a
 * Markdown table.
 *
 * <p>Not a JMH benchmark: JMH times one method in isolation, while this needs many clients against
 * one server and latency percentiles over all of their requests. Bounded: every cell runs for a
 * fixed time (default 4 s after a 1 s warm-up per server), the clients stop by themselves, and
 * the server listens on 127.0.0.1 only. The clients share the machine with the server, so on a
 * small machine the figures include their own cost.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar
 * dev.mue.benchmarks.serve.ServeLoadBenchmark [--model DIR] [--samples DIR] [--seconds S]
 * [--warmup S] [--max-batch N] [--max-delay-ms MS]}, from the repository root.
 */
public final class ServeLoadBenchmark {
    private static final int[] CLIENTS = {1, 8, 32};
    private static final int SAMPLES = 6;

    private ServeLoadBenchmark() {
    }

    /** One cell of the table. */
    record Cell(String policy, String batching, int clients, int requests, int failures, double seconds,
            double p50Millis, double p99Millis, double meanBatch) {
    }

    /** Runs every cell and prints the table. */
    public static void main(String[] args) throws Exception {
        Path model = Path.of("mue-model-grid/src/main/resources/dev/mue/model/grid/mue-grid");
        Path samples = Path.of("samples");
        double seconds = 4;
        double warmup = 3;
        int maxBatch = ServeConfig.defaults(0).maxBatch();
        long maxDelay = ServeConfig.defaults(0).maxDelayMillis();
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--model" -> model = Path.of(args[i + 1]);
                case "--samples" -> samples = Path.of(args[i + 1]);
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                case "--warmup" -> warmup = Double.parseDouble(args[i + 1]);
                case "--max-batch" -> maxBatch = Integer.parseInt(args[i + 1]);
                case "--max-delay-ms" -> maxDelay = Long.parseLong(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Model m = ModelBundle.load(model);
        List<byte[]> bodies = new ArrayList<>();
        for (int s = 0; s < SAMPLES; s++) {
            String b64 = Base64.getEncoder().encodeToString(Files.readAllBytes(samples.resolve("fmnist-test-" + s + ".png")));
            bodies.add(("{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"" + b64 + "\"]}]}")
                    .getBytes(StandardCharsets.US_ASCII));
        }
        SessionSpec mue = SessionSpec.of(m, model.toString()).withBackend("java");
        SessionSpec full = mue.withPolicy(new PolicyChoice(ExitPolicy.full(), "full depth", null));
        PrintStream out = System.out;
        List<Cell> cells = new ArrayList<>();
        for (boolean batching : new boolean[] {false, true}) {
            for (SessionSpec spec : List.of(full, mue)) {
                String policy = spec == full ? "full depth" : "MuE (bundle policy)";
                ServeConfig config = ServeConfig.defaults(0).withBatching(batching ? maxBatch : 1, batching ? maxDelay : 0)
                        .withQueue(256, 1, 120_000);
                String label = batching ? "max-batch " + maxBatch + ", " + maxDelay + " ms" : "off";
                try (MueServer server = MueServer.start(spec, config)) {
                    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                            .connectTimeout(Duration.ofSeconds(10)).build();
                    URI infer = server.uri().resolve("/v2/models/caption/infer");
                    URI metrics = server.uri().resolve("/metrics");
                    run(http, infer, bodies, 8, warmup); // warm-up: JIT, plan caches, connections
                    for (int c : CLIENTS) {
                        double[] before = batches(http, metrics);
                        Result r = run(http, infer, bodies, c, seconds);
                        double[] after = batches(http, metrics);
                        double meanBatch = (after[0] - before[0]) / Math.max(1, after[1] - before[1]);
                        Cell cell = new Cell(policy, label, c, r.latencies.length, r.failures, r.seconds,
                                percentile(r.latencies, 0.50), percentile(r.latencies, 0.99), meanBatch);
                        cells.add(cell);
                        System.err.printf(Locale.ROOT, "%s, batching %s, %d clients: %.1f req/s%n", policy, label, c,
                                cell.requests / cell.seconds);
                    }
                }
            }
        }
        out.println("| policy | dynamic batching | clients | requests/s | p50 (ms) | p99 (ms) | mean batch | failed |");
        out.println("|---|---|---|---|---|---|---|---|");
        for (Cell c : cells) {
            out.printf(Locale.ROOT, "| %s | %s | %d | %.1f | %.1f | %.1f | %.2f | %d |%n", c.policy, c.batching, c.clients,
                    c.requests / c.seconds, c.p50Millis, c.p99Millis, c.meanBatch, c.failures);
        }
    }

    private record Result(double[] latencies, int failures, double seconds) {
    }

    /** {@code clients} threads, each sending requests back to back for {@code seconds}. */
    private static Result run(HttpClient http, URI uri, List<byte[]> bodies, int clients, double seconds)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicInteger failures = new AtomicInteger();
        CountDownLatch gate = new CountDownLatch(1);
        long[] window = new long[1];
        List<Future<List<Double>>> futures = new ArrayList<>();
        try {
            for (int c = 0; c < clients; c++) {
                int client = c;
                futures.add(pool.submit(() -> {
                    gate.await();
                    List<Double> lat = new ArrayList<>();
                    for (int k = 0; System.nanoTime() - window[0] < 0; k++) {
                        byte[] body = bodies.get((client + k) % bodies.size());
                        long t0 = System.nanoTime();
                        try {
                            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                                    HttpResponse.BodyHandlers.ofByteArray());
                            if (r.statusCode() == 200) {
                                lat.add((System.nanoTime() - t0) / 1e6);
                            } else {
                                failures.incrementAndGet();
                            }
                        } catch (IOException e) {
                            failures.incrementAndGet();
                        }
                    }
                    return lat;
                }));
            }
            long start = System.nanoTime();
            window[0] = start + (long) (seconds * 1e9);
            gate.countDown();
            List<Double> all = new ArrayList<>();
            for (Future<List<Double>> f : futures) {
                all.addAll(f.get((long) seconds + 180, TimeUnit.SECONDS));
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            return new Result(all.stream().mapToDouble(Double::doubleValue).sorted().toArray(), failures.get(), elapsed);
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static final Pattern SUM = Pattern.compile("(?m)^mue_batch_size_sum\\{model=\"caption\"} (\\S+)$");
    private static final Pattern COUNT = Pattern.compile("(?m)^mue_batch_size_count\\{model=\"caption\"} (\\S+)$");

    /** The caption batches' size sum and count from {@code /metrics}. */
    private static double[] batches(HttpClient http, URI metrics) throws Exception {
        String text = http.send(HttpRequest.newBuilder(metrics).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher s = SUM.matcher(text);
        Matcher c = COUNT.matcher(text);
        return s.find() && c.find() ? new double[] {Double.parseDouble(s.group(1)), Double.parseDouble(c.group(1))}
                : new double[] {0, 0};
    }
}
