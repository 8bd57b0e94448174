package dev.mue.backend.tf;

import dev.mue.api.BackendUnavailableException;
import dev.mue.api.plan.Plan;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.exit.CosineCriterion;
import dev.mue.api.plan.PlanNode;
import dev.mue.api.spi.Prepared;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;
import org.tensorflow.proto.RewriterConfig;

/**
 * The TensorFlow backend: loads the natives, holds the session configuration (threads, device)
 * and prepares plans in graph mode (compiled graphs with {@code If} exits, the default) or eager
 * mode (the same ops driven from the host). Sessions, graphs and tensors belong to the executables,
 * which close them.
 */
final class TfBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(TfBackend.class);

    /** How plans run. */
    enum Mode {
        /** Each stage compiled into one graph with {@code If} exits: one {@code Session.run} per encoder pass or decoding step. */
        GRAPH,
        /** TF eager ops driven from the host, gate by gate. */
        EAGER
    }

    private final Mode mode;
    private final String device;
    private final ConfigProto config;

    /** Loads the natives and reads the options (see {@link TfBackendProvider}). */
    TfBackend(BackendOptions options) {
        String version = TfNatives.load();
        String m = options.properties().getOrDefault("mode", System.getProperty("mue.tf.mode", "graph"))
                .trim().toLowerCase(Locale.ROOT);
        this.mode = switch (m) {
            case "graph" -> Mode.GRAPH;
            case "eager" -> Mode.EAGER;
            default -> throw new BackendUnavailableException("unknown tf mode '" + m + "'; use graph or eager");
        };
        String dev = options.device().isEmpty() ? "cpu" : options.device().toLowerCase(Locale.ROOT);
        boolean gpu = dev.startsWith("gpu") || dev.startsWith("cuda");
        if (!dev.equals("cpu") && !(gpu && TfNatives.devices().size() > 1)) {
            throw new BackendUnavailableException("backend 'tf' cannot run on '" + options.device() + "': devices here are "
                    + TfNatives.devices() + " (the gpu profile brings the CUDA natives)");
        }
        this.device = gpu ? "gpu:0" : "cpu";
        int threads = options.effectiveThreads();
        ConfigProto.Builder b = ConfigProto.newBuilder().setIntraOpParallelismThreads(threads)
                .setInterOpParallelismThreads(threads).setAllowSoftPlacement(true);
        if (!gpu) {
            b.putDeviceCount("GPU", 0);
        }
        // Grappler off: the graphs are already what should run (folded biases, per-example chains),
        // and its passes would only add seconds to every new entry's first run (and may lower the If
        // ops to Switch/Merge). Set mue.tf.grappler=true to compare.
        if (!Boolean.getBoolean("mue.tf.grappler")) {
            b.setGraphOptions(GraphOptions.newBuilder()
                    .setRewriteOptions(RewriterConfig.newBuilder().setDisableMetaOptimizer(true))
                    .setOptimizerOptions(OptimizerOptions.newBuilder().setOptLevel(OptimizerOptions.Level.L0)
                            .setDoFunctionInlining(false).setDoConstantFolding(false)
                            .setDoCommonSubexpressionElimination(false)
                            .setGlobalJitLevel(OptimizerOptions.GlobalJitLevel.OFF)));
        }
        this.config = b.build();
        LOG.info("tf backend: TensorFlow {}, {} mode, {}, {} threads", version, mode.name().toLowerCase(Locale.ROOT),
                device, threads);
    }

    /** Graph or eager. */
    Mode mode() {
        return mode;
    }

    /** The session and eager-context configuration. */
    ConfigProto config() {
        return config;
    }

    @Override
    public String id() {
        return TfBackendProvider.ID;
    }

    @Override
    public String device() {
        return device;
    }

    @Override
    public Prepared prepare(Plan plan) {
        if (mode == Mode.GRAPH) {
            String uncompiled = uncompiledCriterion(plan);
            if (uncompiled == null) {
                return new Prepared.Compiled(new TfExecutable(plan, this));
            }
            LOG.info("tf backend: the graphs compile the cosine criterion only; plan {} uses '{}', so it runs "
                    + "in eager mode, each gate decided on the host", plan.config().name(), uncompiled);
        }
        return new Prepared.Interpreted(new TfEagerOps(plan, this));
    }

    /** The criterion of a gate node the graphs cannot compile (only MuE's cosine is compiled), or null. */
    private static String uncompiledCriterion(Plan plan) {
        for (PlanNode n : plan.nodes()) {
            if (n instanceof PlanNode.ExitGate g && !g.criterion().equals(CosineCriterion.ID)) {
                return g.criterion();
            }
        }
        return null;
    }

    @Override
    public void close() {
        // Nothing is shared between executables: each owns its graph, session or eager context.
    }
}
