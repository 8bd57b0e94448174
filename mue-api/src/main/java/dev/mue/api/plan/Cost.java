package dev.mue.api.plan;

/**
 * Estimated cost of one plan node at the plan's shapes.
 *
 * @param flops floating-point operations (a multiply-add counts as two)
 * @param bytes weight and activation bytes the node reads and writes, float32
 */
public record Cost(long flops, long bytes) {
    /** No cost. */
    public static final Cost ZERO = new Cost(0, 0);

    /** Sum of two costs. */
    public Cost plus(Cost o) {
        return new Cost(flops + o.flops, bytes + o.bytes);
    }

    /** Human-readable FLOP count, e.g. {@code 12.3 MFLOP}. */
    public String flopsString() {
        double f = flops;
        String[] units = {"FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP"};
        int u = 0;
        while (f >= 1000 && u < units.length - 1) {
            f /= 1000;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", f, units[u]);
    }
}
