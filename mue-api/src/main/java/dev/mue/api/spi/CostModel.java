package dev.mue.api.spi;

import java.util.Locale;

/**
 * How fast a backend runs a plan, as measured by the benchmarks ({@code benchmarks/table.sh} and
 * the default-model benchmarks): a fixed cost per executed plan node (dispatch, host round trips,
 * small kernels) plus the work at a sustained FP32 rate. Automatic backend selection estimates a
 * workload's time with it ({@link Backends#choose(String, Workload)}).
 *
 * @param nodeMicros the fixed cost of one plan node execution, microseconds
 * @param gflops     the sustained FP32 rate on large work, GFLOP/s, with the backend's default threads
 * @param measuredOn where and how the figures were measured, for {@code mue backends}
 */
public record CostModel(double nodeMicros, double gflops, String measuredOn) {

    /** Validates positive figures. */
    public CostModel {
        if (!(nodeMicros >= 0) || !(gflops > 0) || Double.isInfinite(nodeMicros) || Double.isInfinite(gflops)) {
            throw new IllegalArgumentException("cost model needs a finite node cost >= 0 and a rate > 0, got "
                    + nodeMicros + " us, " + gflops + " GFLOP/s");
        }
    }

    /** The estimated seconds of {@code w}. */
    public double seconds(Workload w) {
        return w.nodes() * nodeMicros * 1e-6 + w.flops() / (gflops * 1e9);
    }

    /** One line, e.g. {@code 120 us per node + 58.0 GFLOP/s}. */
    public String describe() {
        return String.format(Locale.ROOT, "%.0f us per node + %.1f GFLOP/s (%s)", nodeMicros, gflops, measuredOn);
    }

    /**
     * A piece of work to estimate: plan node executions and FLOPs.
     *
     * @param what  what it is, for logs, e.g. {@code a caption of ofa-base}
     * @param nodes plan node executions (each a dispatch with its fixed cost)
     * @param flops floating-point operations
     */
    public record Workload(String what, long nodes, long flops) {
    }
}
