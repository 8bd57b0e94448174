package dev.mue.cli;

import dev.mue.api.model.Model;
import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.Task;
import dev.mue.api.spi.BackendOptions;
import dev.mue.serve.MueServer;
import dev.mue.serve.ServeConfig;
import dev.mue.serve.SessionSpec;
import dev.mue.serve.TerminationSignals;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mue serve}: serves the bundle's captioning ({@code caption}) and visual entailment
 * ({@code entail}) over the Open Inference Protocol v2 (REST) until SIGTERM or Ctrl-C, which drain
 * the requests in flight and exit 0.
 */
@Command(name = "serve", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = {"Serve the models caption and entail over the Open Inference Protocol v2 (KServe/Triton REST),"
                + " with dynamic batching.",
                "Routes: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/{caption|entail}[/ready],"
                        + " POST /v2/models/{caption|entail}/infer, GET /metrics (Prometheus).",
                "SIGTERM or Ctrl-C drains the requests in flight and exits 0."})
final class ServeCommand implements Callable<Integer> {
    private static final ServeConfig DEFAULTS = ServeConfig.defaults(8000);

    @Spec
    CommandSpec spec;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on; 0.0.0.0 for every interface. Default: ${DEFAULT-VALUE} (this machine only).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8000",
            description = "Port to listen on; 0 picks a free one (printed at start). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--max-batch", paramLabel = "N", description = "Most images in one batch (and one request); 1 turns"
            + " dynamic batching off. Default: ${DEFAULT-VALUE}.")
    int maxBatch = DEFAULTS.maxBatch();

    @Option(names = "--max-delay-ms", paramLabel = "MS", description = "Longest a batch waits for more requests after"
            + " its first one arrived. Default: ${DEFAULT-VALUE}.")
    long maxDelayMillis = DEFAULTS.maxDelayMillis();

    @Option(names = "--queue", paramLabel = "N", description = "Most images waiting per model; beyond it requests get"
            + " 503 with Retry-After. Default: ${DEFAULT-VALUE}.")
    int queue = DEFAULTS.queueCapacity();

    @Option(names = "--workers", paramLabel = "N", description = "Batches of one model running at once. Default:"
            + " ${DEFAULT-VALUE}.")
    int workers = DEFAULTS.workers();

    @Option(names = "--timeout-ms", paramLabel = "MS", description = "Each request's deadline from its arrival; past"
            + " it, 503. Default: ${DEFAULT-VALUE}.")
    long timeoutMillis = DEFAULTS.timeoutMillis();

    @Option(names = "--max-body-bytes", paramLabel = "N", description = "Largest request body; larger ones get 413."
            + " Default: ${DEFAULT-VALUE}.")
    long maxBodyBytes = DEFAULTS.maxBodyBytes();

    @Option(names = "--max-text-chars", paramLabel = "N", description = "Longest hypothesis or premise, in characters;"
            + " longer ones get 400. Default: ${DEFAULT-VALUE}.")
    int maxTextChars = DEFAULTS.maxTextChars();

    @Option(names = "--drain-timeout-ms", paramLabel = "MS", description = "On SIGTERM, how long requests in flight"
            + " may take to finish. Default: ${DEFAULT-VALUE}.")
    long drainMillis = DEFAULTS.drainMillis();

    @Option(names = "--no-policy-override", description = "Refuse requests that set exit thresholds in their parameters.")
    boolean noPolicyOverride;

    @Option(names = "--min-threshold", paramLabel = "X", description = "Lowest exit threshold a request may set"
            + " (image_threshold, text_threshold, encoder_threshold, decoder_threshold). Default: ${DEFAULT-VALUE}.")
    double minThreshold = DEFAULTS.minThreshold();

    @Option(names = "--max-policies", paramLabel = "N", description = "Sessions for request-set policies held at once"
            + " (each compiles its own plan). Default: ${DEFAULT-VALUE}.")
    int maxPolicies = DEFAULTS.maxPolicySessions();

    @Option(names = "--max-connections", paramLabel = "N", description = "Open connections at most. Default:"
            + " ${DEFAULT-VALUE}.")
    int maxConnections = DEFAULTS.maxConnections();

    @Mixin
    SessionOptions session;

    @Override
    public Integer call() throws InterruptedException {
        session.validate();
        ServeConfig config;
        try {
            config = new ServeConfig(host, port, maxBatch, maxDelayMillis, queue, workers, timeoutMillis, maxBodyBytes,
                    maxTextChars, drainMillis, !noPolicyOverride, minThreshold, maxPolicies, maxConnections);
        } catch (IllegalArgumentException e) {
            throw MueCli.usage(spec, e.getMessage());
        }
        Model m = session.loadModel();
        ModelPolicies file = session.filePolicies();
        SessionSpec sessions = new SessionSpec(m, session.modelSource(), session.backend,
                BackendOptions.defaults().withThreads(session.threads), session.decoding(m),
                session.choice(Task.CAPTION, m, file), session.choice(Task.ENTAIL, m, file));
        MueServer server = MueServer.start(sessions, config);
        TerminationSignals.install(server::shutdown);
        PrintWriter out = spec.commandLine().getOut();
        out.println("mue serve: listening on " + server.uri() + " (models caption, entail; SIGTERM or Ctrl-C drains and"
                + " stops)");
        out.flush();
        server.awaitStopped();
        return 0;
    }
}
