package dev.mue.api.exit;

/**
 * What a backend measured for one gate group; a measure the criterion did not ask for is NaN and
 * reading it fails.
 *
 * @param cosine         {@link GateMeasure#COSINE}, or NaN when not measured
 * @param topProbability {@link GateMeasure#TOP_PROBABILITY}, or NaN when not measured
 */
public record GateMeasures(double cosine, double topProbability) {

    /** The cosine similarity; fails when it was not measured. */
    @Override
    public double cosine() {
        return require(cosine, GateMeasure.COSINE);
    }

    /** The top-1 probability; fails when it was not measured. */
    @Override
    public double topProbability() {
        return require(topProbability, GateMeasure.TOP_PROBABILITY);
    }

    private static double require(double v, GateMeasure m) {
        if (Double.isNaN(v)) {
            throw new IllegalStateException("gate measure " + m + " was not measured: the criterion must list it in measures()");
        }
        return v;
    }
}
