package dev.mue.serve.metrics;

import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.ExitTrace;
import java.util.Locale;
import java.util.function.DoubleSupplier;

/**
 * The server's metrics, exposed at {@code GET /metrics}: inference requests by model and status,
 * their latency, queue waits, batch sizes, queue depth, requests in flight, and what MuE did: the
 * exit layer of every encoder stream and every decoder step, and the layers run and saved.
 */
public final class ServeMetrics {
    private static final double[] SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    private static final double[] BATCH = {1, 2, 4, 8, 16, 32, 64, 128};

    private final Registry registry = new Registry();
    private final Registry.Family<Registry.Counter> requests;
    private final Registry.Family<Registry.Histogram> latency;
    private final Registry.Family<Registry.Histogram> queueWait;
    private final Registry.Family<Registry.Histogram> batchSize;
    private final Registry.Family<Registry.Gauge> queueDepth;
    private final Registry.Family<Registry.Histogram> exitLayer;
    private final Registry.Family<Registry.Counter> layersRun;
    private final Registry.Family<Registry.Counter> layersSaved;
    private final Registry.Family<Registry.Gauge> inFlight;

    /** Metrics for a model of {@code maxLayers} layers in its deepest stack (the exit-layer buckets). */
    public ServeMetrics(int maxLayers) {
        requests = registry.counter("mue_infer_requests_total", "Inference requests by model and HTTP status.",
                "model", "status");
        latency = registry.histogram("mue_infer_request_duration_seconds",
                "Time from an inference request's arrival to its response, by model.", SECONDS, "model");
        queueWait = registry.histogram("mue_queue_wait_seconds",
                "Time an inference request waited before its batch started, by model.", SECONDS, "model");
        batchSize = registry.histogram("mue_batch_size", "Elements (images) per batch run, by model.", BATCH, "model");
        queueDepth = registry.gauge("mue_queue_depth", "Elements waiting in the batch queue, by model.", "model");
        inFlight = registry.gauge("mue_inflight_requests", "Inference requests being handled now.");
        double[] layers = new double[maxLayers];
        for (int i = 0; i < maxLayers; i++) {
            layers[i] = i + 1;
        }
        exitLayer = registry.histogram("mue_exit_layer",
                "Layer each stream exited at: per example for the image, text or joint encoder stream, per generated"
                        + " token (or scoring pass) for the decoder.", layers, "model", "stream");
        layersRun = registry.counter("mue_layers_run_total",
                "Transformer layers run, by model and stream (the decoder's summed over tokens).", "model", "stream");
        layersSaved = registry.counter("mue_layers_saved_total",
                "Transformer layers skipped by early exits, by model and stream (the decoder's summed over tokens).",
                "model", "stream");
    }

    /** The registry behind these metrics. */
    public Registry registry() {
        return registry;
    }

    /** The text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    /** One inference request answered with {@code status} after {@code seconds}. */
    public void request(String model, int status, double seconds) {
        requests.labels(model, Integer.toString(status)).inc();
        latency.labels(model).observe(seconds);
    }

    /** Requests so far for {@code model} with {@code status}. */
    public double requests(String model, int status) {
        return requests.labels(model, Integer.toString(status)).get();
    }

    /** A request waited {@code seconds} before its batch ran. */
    public void queued(String model, double seconds) {
        queueWait.labels(model).observe(seconds);
    }

    /** A batch of {@code items} ran. */
    public void batch(String model, int items) {
        batchSize.labels(model).observe(items);
    }

    /** Where {@code model}'s queue depth is read from. */
    public void queueDepth(String model, DoubleSupplier depth) {
        queueDepth.labels(model).set(depth);
    }

    /** Where the in-flight count is read from. */
    public void inFlight(DoubleSupplier count) {
        inFlight.labels().set(count);
    }

    /** One example's exits. */
    public void trace(String model, ExitTrace t) {
        for (EncoderExit e : t.encoder()) {
            String stream = e.stream().name().toLowerCase(Locale.ROOT);
            exitLayer.labels(model, stream).observe(e.exitLayer());
            layersRun.labels(model, stream).inc(e.exitLayer());
            layersSaved.labels(model, stream).inc(t.encoderLayers() - e.exitLayer());
        }
        for (DecoderStepTrace s : t.decoder()) {
            exitLayer.labels(model, "decoder").observe(s.exitLayer());
            layersRun.labels(model, "decoder").inc(s.exitLayer());
            layersSaved.labels(model, "decoder").inc(t.decoderLayers() - s.exitLayer());
        }
    }
}
