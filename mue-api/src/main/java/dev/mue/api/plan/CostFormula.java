package dev.mue.api.plan;

/**
 * The FLOP count of a plan node as a function of what it actually processed, so that a trace can
 * sum the cost of the nodes a request really executed (design §4, §10.6). A multiply-add counts as
 * two.
 *
 * <p>{@code flops = perItem * items + perToken * tokens + perKey * keys + perMemoryKey * memoryKeys},
 * where {@code items} counts whole inputs (images for the backbone), {@code tokens} the positions
 * processed, {@code keys} the self-attention keys attended summed over those positions, and
 * {@code memoryKeys} the encoder positions attended by cross-attention summed over them.
 *
 * @param perItem      FLOPs per input item
 * @param perToken     FLOPs per processed position
 * @param perKey       FLOPs per attended self-attention key
 * @param perMemoryKey FLOPs per attended encoder position
 */
public record CostFormula(long perItem, long perToken, long perKey, long perMemoryKey) {
    /** Costs nothing. */
    public static final CostFormula ZERO = new CostFormula(0, 0, 0, 0);

    /** A cost per processed position only. */
    public static CostFormula perToken(long flops) {
        return new CostFormula(0, flops, 0, 0);
    }

    /** A cost per input item only. */
    public static CostFormula perItem(long flops) {
        return new CostFormula(flops, 0, 0, 0);
    }

    /** The FLOPs of one execution over the given extent. */
    public long flops(long items, long tokens, long keys, long memoryKeys) {
        return perItem * items + perToken * tokens + perKey * keys + perMemoryKey * memoryKeys;
    }

    /** The sum of two formulas. */
    public CostFormula plus(CostFormula o) {
        return new CostFormula(perItem + o.perItem, perToken + o.perToken, perKey + o.perKey,
                perMemoryKey + o.perMemoryKey);
    }
}
