package dev.mue.train.calibrate;

/**
 * Valid p-values for the null hypothesis "the risk is greater than delta" from the mean of n
 * independent losses bounded in [0, 1] (Bates, Angelopoulos et al., "Distribution-free,
 * risk-controlling prediction sets", 2021, §3; Learn-then-Test uses the same).
 *
 * <p>All are computed in log space where a term could underflow, and capped at 1.
 */
public final class PValues {
    private PValues() {
    }

    /**
     * {@code P[Binom(n, p) <= k]}, summed in log space (each term from the previous by the ratio
     * {@code (n-i)/(i+1) * p/(1-p)}), so large n and tiny tails neither overflow nor underflow to a
     * wrong zero before the sum.
     */
    public static double binomialCdf(int k, int n, double p) {
        if (n < 0 || !(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("binomial needs n >= 0 and p in [0, 1], got n " + n + ", p " + p);
        }
        if (k < 0) {
            return 0;
        }
        if (k >= n || p == 0) {
            return 1;
        }
        if (p == 1) {
            return 0;
        }
        double logTerm = n * Math.log1p(-p);
        double logRatio = Math.log(p) - Math.log1p(-p);
        double maxLog = logTerm;
        double[] logs = new double[k + 1];
        logs[0] = logTerm;
        for (int i = 0; i < k; i++) {
            logTerm += Math.log((double) (n - i) / (i + 1)) + logRatio;
            logs[i + 1] = logTerm;
            maxLog = Math.max(maxLog, logTerm);
        }
        double sum = 0;
        for (double l : logs) {
            sum += Math.exp(l - maxLog);
        }
        return Math.min(1, Math.exp(maxLog + Math.log(sum)));
    }

    /** The Kullback-Leibler divergence of Bernoulli(a) from Bernoulli(b), with 0 log 0 = 0. */
    public static double bernoulliKl(double a, double b) {
        double x = a == 0 ? 0 : a * Math.log(a / b);
        double y = a == 1 ? 0 : (1 - a) * Math.log((1 - a) / (1 - b));
        return x + y;
    }

    /** Hoeffding's (KL form): {@code exp(-n h(min(rhat, delta), delta))}. */
    public static double hoeffding(double rhat, int n, double delta) {
        check(rhat, n, delta);
        return Math.min(1, Math.exp(-n * bernoulliKl(Math.min(rhat, delta), delta)));
    }

    /**
     * Bentkus's: {@code e * P[Binom(n, delta) <= ceil(n rhat)]}, given the loss sum {@code n rhat}
     * directly so that a sum that is an integer is not pushed up by rounding in {@code n * (s / n)}.
     */
    public static double bentkus(double lossSum, int n, double delta) {
        check(lossSum / n, n, delta);
        return Math.min(1, Math.E * binomialCdf(ceil(lossSum), n, delta));
    }

    /** The Hoeffding-Bentkus p-value: the smaller of the two, both valid for losses in [0, 1]. */
    public static double hoeffdingBentkus(double lossSum, int n, double delta) {
        return Math.min(hoeffding(lossSum / n, n, delta), bentkus(lossSum, n, delta));
    }

    /**
     * The exact p-value for binary losses: the number of losses that are 1 is Binomial(n, risk), and
     * under the null's boundary risk = delta, {@code P[Binom(n, delta) <= count]}. Valid (and tighter
     * than Hoeffding-Bentkus) only when every loss is 0 or 1.
     */
    public static double exactBinomial(int count, int n, double delta) {
        check((double) count / n, n, delta);
        return binomialCdf(count, n, delta);
    }

    /**
     * A sum of doubles that should be an integer (e.g. 3 losses of 1/3 each) may come out as
     * 3.0000000000000004; its ceiling must still be 3. The tolerance is far below any real loss.
     */
    static int ceil(double sum) {
        return (int) Math.ceil(sum - 1e-9);
    }

    private static void check(double rhat, int n, double delta) {
        if (n < 1 || !(rhat >= 0 && rhat <= 1 + 1e-12) || !(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("p-value needs n >= 1, a risk in [0, 1] and delta in (0, 1), got n " + n
                    + ", risk " + rhat + ", delta " + delta);
        }
    }
}
