package dev.mue.train.calibrate;

/** How the p-value of "risk > delta" is computed from n per-example losses. */
public enum PValueMethod {
    /** {@link PValues#exactBinomial}: for losses that are all 0 or 1 (the VE answer changed or not). */
    EXACT_BINOMIAL("exact binomial tail P[Binom(n, delta) <= n Rhat]"),
    /** {@link PValues#hoeffdingBentkus}: for any losses in [0, 1]. */
    HOEFFDING_BENTKUS("Hoeffding-Bentkus: min(exp(-n h(min(Rhat, delta), delta)), e P[Binom(n, delta) <= ceil(n Rhat)])");

    private final String description;

    PValueMethod(String description) {
        this.description = description;
    }

    /** In words, as the certificate records it. */
    public String description() {
        return description;
    }

    /**
     * The p-value of "risk > delta" for the given losses.
     *
     * @throws IllegalArgumentException for {@link #EXACT_BINOMIAL} when a loss is neither 0 nor 1
     */
    public double pValue(double[] losses, double delta) {
        double sum = 0;
        for (double l : losses) {
            if (!(l >= 0 && l <= 1)) {
                throw new IllegalArgumentException("losses must be in [0, 1], got " + l);
            }
            if (this == EXACT_BINOMIAL && l != 0 && l != 1) {
                throw new IllegalArgumentException("the exact binomial p-value needs binary losses, got " + l);
            }
            sum += l;
        }
        return switch (this) {
            case EXACT_BINOMIAL -> PValues.exactBinomial((int) Math.round(sum), losses.length, delta);
            case HOEFFDING_BENTKUS -> PValues.hoeffdingBentkus(sum, losses.length, delta);
        };
    }

    /**
     * The smallest delta at which these losses would reject "risk > delta" at level epsilon (the
     * p-value falls as delta grows), to 1e-4; 1 when even delta near 1 is not enough.
     */
    public double smallestCertifiableDelta(double[] losses, double epsilon) {
        double lo = 0;
        double hi = 1 - 1e-9;
        if (pValue(losses, hi) > epsilon) {
            return 1;
        }
        while (hi - lo > 1e-5) {
            double mid = (lo + hi) / 2;
            if (mid > 0 && pValue(losses, mid) <= epsilon) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return Math.ceil(hi * 1e4) / 1e4;
    }
}
