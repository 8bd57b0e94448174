package dev.mue.backend.java;

import dev.mue.api.BackendUnavailableException;
import dev.mue.api.plan.Plan;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.Prepared;
import dev.mue.backend.java.kernels.JvBuffers;
import dev.mue.backend.java.kernels.JvKernels;
import dev.mue.backend.java.kernels.JvNaiveKernels;
import dev.mue.backend.java.kernels.JvParallel;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pure-Java backend: owns a {@link ForkJoinPool} sized by {@link BackendOptions#threads()} and
 * the kernels that run on it; {@link #close()} shuts the pool down.
 */
public final class JvBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(JvBackend.class);

    private final ForkJoinPool pool;
    /** The loops on the pool, one instance for the kernels and every plan, so that they share its helpers. */
    private final JvParallel parallel;
    private final JvKernels kernels;
    /** Large arrays recycled by the kernels and by every plan prepared here (one budget per backend). */
    private final JvBuffers buffers = JvBuffers.forHeap();

    /** Creates the pool and picks the kernels (see {@link JvBackendProvider}). */
    public JvBackend(BackendOptions options) {
        if (!options.device().isEmpty() && !options.device().equals("cpu")) {
            throw new BackendUnavailableException("backend 'java' runs on cpu only, not on '" + options.device() + "'");
        }
        int threads = options.effectiveThreads();
        this.pool = new ForkJoinPool(threads);
        this.parallel = new JvParallel(pool);
        String choice = options.properties().getOrDefault("kernels", System.getProperty("mue.java.kernels", "vector"));
        this.kernels = pickKernels(choice, parallel, buffers);
        LOG.info("java backend: {} kernels, {} threads", kernels, threads);
    }

    /** What {@code mue backends} and the one-time warning say when the Vector API is not there. */
    static final String SCALAR_NOTE = "scalar kernels, several times slower: jdk.incubator.vector is not resolved"
            + " (run java with --add-modules jdk.incubator.vector; ./mue does)";

    private static final java.util.concurrent.atomic.AtomicBoolean WARNED = new java.util.concurrent.atomic.AtomicBoolean();

    /** Whether the Vector API is missing from this JVM, so that the vector kernels cannot run. */
    static boolean vectorApiMissing() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()
                && JvBackend.class.getModule().getLayer() == null;
    }

    static JvKernels pickKernels(String choice, JvParallel parallel, JvBuffers buffers) {
        if (choice.equals("naive")) {
            return new JvNaiveKernels();
        }
        if (!choice.equals("vector")) {
            throw new BackendUnavailableException("unknown java kernels '" + choice + "'; use naive or vector");
        }
        if (vectorApiMissing()) {
            LOG.warn("jdk.incubator.vector is not resolved (run with --add-modules jdk.incubator.vector); "
                    + "falling back to the scalar kernels");
            // Once per JVM on stderr as well: a library user without an SLF4J binding sees no log at all,
            // and a 7x slowdown should not go unnoticed.
            if (WARNED.compareAndSet(false, true)) {
                System.err.println("mue: warning: java backend: " + SCALAR_NOTE);
            }
            return new JvNaiveKernels();
        }
        return JvVectorKernelsLoader.create(parallel, buffers);
    }

    @Override
    public String id() {
        return JvBackendProvider.ID;
    }

    @Override
    public String device() {
        return "cpu";
    }

    /** The kernels in use. */
    public JvKernels kernels() {
        return kernels;
    }

    @Override
    public Prepared prepare(Plan plan) {
        return new Prepared.Interpreted(new JvLayerOps(plan, kernels, parallel, buffers));
    }

    @Override
    public void close() {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
