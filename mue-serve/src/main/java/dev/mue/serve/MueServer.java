package dev.mue.serve;

import dev.mue.api.policy.Task;
import dev.mue.serve.http.DrainingHandler;
import dev.mue.serve.http.OipHandler;
import dev.mue.serve.infer.BatchSettings;
import dev.mue.serve.infer.CaptionModel;
import dev.mue.serve.infer.EntailModel;
import dev.mue.serve.infer.PolicyOverrides;
import dev.mue.serve.infer.ServedModel;
import dev.mue.serve.infer.SessionPool;
import dev.mue.serve.metrics.ServeMetrics;
import dev.mue.session.MueSession;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An Open Inference Protocol v2 (REST) server for one model bundle: the models {@code caption} and
 * {@code entail}, each with dynamic batching through the session's batch path, so that every
 * request gets exactly what it would get alone while concurrent ones share the work.
 *
 * <p>{@link #start} opens the session (compiling both tasks' plans, so that readiness means ready),
 * starts Jetty on the configured address and returns once it listens. {@link #shutdown()} drains:
 * readiness turns false and new inference requests get 503, every queued request runs at once
 * (without waiting for a fuller batch), the listening socket closes, responses in flight are
 * written within {@link ServeConfig#drainMillis()}, then the sessions close. Handlers run on virtual threads; batches on the batchers' own
 * platform threads, and the backend's pool does the arithmetic.
 *
 * <pre>{@code
 * try (MueServer server = MueServer.start(SessionSpec.of(model, "my-bundle"), ServeConfig.defaults(8000))) {
 *     server.awaitStopped();
 * }
 * }</pre>
 */
public final class MueServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MueServer.class);

    private final Server jetty;
    private final ServerConnector connector;
    private final SessionPool pool;
    private final List<ServedModel<?, ?>> models;
    private final ServeConfig config;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean draining;
    private boolean shutdownStarted;

    private MueServer(Server jetty, ServerConnector connector, SessionPool pool, List<ServedModel<?, ?>> models,
            ServeConfig config, AtomicBoolean draining) {
        this.jetty = jetty;
        this.connector = connector;
        this.pool = pool;
        this.models = models;
        this.config = config;
        this.draining = draining;
    }

    /**
     * Opens the sessions and starts listening.
     *
     * @throws dev.mue.api.MueException if the model cannot be opened on the backend
     * @throws java.io.UncheckedIOException if the address cannot be bound
     */
    public static MueServer start(SessionSpec spec, ServeConfig config) {
        MueSession base = spec.open();
        SessionPool pool = new SessionPool(base, spec::open, config.policyOverrides() ? config.maxPolicySessions() : 0);
        List<ServedModel<?, ?>> models = new ArrayList<>();
        Server jetty = null;
        try {
            // Compile entailment's plan now (it is lazy when its policy differs from captioning's).
            base.plan(Task.ENTAIL);
            int layers = Math.max(spec.model().config().encoderLayers(), spec.model().config().decoderLayers());
            ServeMetrics metrics = new ServeMetrics(layers);
            PolicyOverrides overrides = new PolicyOverrides(config.policyOverrides() && config.maxPolicySessions() > 0,
                    config.minThreshold());
            BatchSettings batching = new BatchSettings(config.maxBatch(), TimeUnit.MILLISECONDS.toNanos(config.maxDelayMillis()),
                    config.queueCapacity(), config.workers());
            models.add(new CaptionModel(pool, overrides, batching, metrics));
            models.add(new EntailModel(pool, overrides, batching, metrics, config.maxTextChars()));
            Map<String, ServedModel<?, ?>> byName = new LinkedHashMap<>();
            models.forEach(m -> byName.put(m.name(), m));

            QueuedThreadPool threads = new QueuedThreadPool();
            threads.setName("mue-http");
            threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
            jetty = new Server(threads);
            HttpConfiguration http = new HttpConfiguration();
            http.setSendServerVersion(false);
            ServerConnector connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
            connector.setHost(config.host());
            connector.setPort(config.port());
            jetty.addConnector(connector);
            jetty.addBean(new NetworkConnectionLimit(config.maxConnections(), connector));
            AtomicBoolean draining = new AtomicBoolean();
            OipHandler handler = new OipHandler(byName, metrics, config.maxBodyBytes(), config.timeoutMillis(),
                    () -> !draining.get(), version());
            // Graceful: on stop, the connector stops accepting and in-flight requests get drainMillis to finish.
            jetty.setHandler(new DrainingHandler(handler));
            jetty.setStopTimeout(config.drainMillis());
            jetty.setStopAtShutdown(false);
            MueServer server = new MueServer(jetty, connector, pool, models, config, draining);
            jetty.start();
            LOG.info("serving {} on {}:{} (backend {}, caption policy: {}, entail policy: {})", spec.modelSource(),
                    config.host(), connector.getLocalPort(), base.backendId(), base.policy(Task.CAPTION).describeSource(),
                    base.policy(Task.ENTAIL).describeSource());
            return server;
        } catch (Exception e) {
            if (jetty != null) {
                try {
                    jetty.stop();
                } catch (Exception stop) {
                    e.addSuppressed(stop);
                }
            }
            models.forEach(ServedModel::close);
            pool.close();
            if (e instanceof RuntimeException r) {
                throw r;
            }
            if (e instanceof java.io.IOException io) {
                // Jetty's "Failed to bind" wraps the socket's own reason (e.g. "Address already in use").
                java.io.IOException reason = io;
                for (Throwable t = io.getCause(); t != null; t = t.getCause()) {
                    if (t instanceof java.io.IOException cause) {
                        reason = cause;
                    }
                }
                throw new java.io.UncheckedIOException("cannot listen on " + config.host() + ":" + config.port(), reason);
            }
            throw new IllegalStateException("cannot start the server: " + e, e);
        }
    }

    private static String version() {
        String v = MueServer.class.getModule().getDescriptor() != null
                ? MueServer.class.getModule().getDescriptor().rawVersion().orElse(null) : null;
        if (v == null) {
            v = MueServer.class.getPackage().getImplementationVersion();
        }
        return v == null ? "development" : v;
    }

    /** The port it listens on. */
    public int port() {
        return connector.getLocalPort();
    }

    /** Its base URI, e.g. {@code http://127.0.0.1:8000}. */
    public URI uri() {
        String h = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return URI.create("http://" + h + ":" + port());
    }

    /** Whether it takes inference requests (false once draining). */
    public boolean isReady() {
        return !draining.get() && jetty.isStarted();
    }

    /**
     * Drains and stops: new inference requests get 503, in-flight ones finish (within the drain
     * time), then the workers and sessions close. Idempotent; a second caller waits for the first.
     */
    public void shutdown() {
        synchronized (this) {
            if (shutdownStarted) {
                awaitQuietly();
                return;
            }
            shutdownStarted = true;
        }
        draining.set(true);
        try {
            // Queued requests run now, without waiting for fuller batches; their handlers then answer
            // while Jetty's graceful stop waits for them (and the listening socket is already closed).
            models.forEach(ServedModel::close);
            jetty.stop();
        } catch (Exception e) {
            LOG.warn("stopping the HTTP server: {}", e.toString());
        } finally {
            try {
                pool.close();
            } finally {
                stopped.countDown();
                LOG.info("stopped");
            }
        }
    }

    private void awaitQuietly() {
        boolean interrupted = false;
        while (true) {
            try {
                stopped.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until {@link #shutdown()} has finished. */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /** {@link #shutdown()}. */
    @Override
    public void close() {
        shutdown();
    }
}
