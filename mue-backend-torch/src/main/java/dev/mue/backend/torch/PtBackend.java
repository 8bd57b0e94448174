package dev.mue.backend.torch;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.mue.api.plan.Plan;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.Prepared;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PyTorch backend: the started engine, the device and a root {@link NDManager} under which
 * every executable's weights and every request's tensors live; {@link #close()} frees them all.
 */
final class PtBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(PtBackend.class);

    private final Device device;
    private final NDManager root;
    private volatile boolean closed;

    PtBackend(BackendOptions options) {
        Engine engine = PtNatives.start(options);
        String requested = options.device().isEmpty() ? options.properties().getOrDefault("device", "")
                : options.device();
        this.device = PtNatives.device(engine, requested);
        this.root = engine.newBaseManager(device);
        LOG.info("torch backend: PyTorch {} on {}, {} intra-op threads", engine.getVersion(), device(),
                ai.djl.pytorch.jni.JniUtils.getNumThreads());
    }

    @Override
    public String id() {
        return PtBackendProvider.ID;
    }

    @Override
    public String device() {
        return PtNatives.name(device);
    }

    @Override
    public Prepared prepare(Plan plan) {
        if (closed) {
            throw new IllegalStateException("torch backend is closed");
        }
        return new Prepared.Interpreted(new PtLayerOps(plan, root));
    }

    @Override
    public void close() {
        closed = true;
        root.close();
    }
}
