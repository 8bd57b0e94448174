package dev.mue.backend.java.kernels;

/** Scalar special functions the kernels need and {@link Math} lacks. */
public final class JvMath {
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
    private static final double SQRT_HALF = Math.sqrt(0.5);

    private JvMath() {
    }

    /**
     * The error function to about 1e-15: a Taylor series below |x| = 2.5 and Lentz's continued
     * fraction for erfc above.
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        if (ax < 2.5) {
            double x2 = x * x;
            double term = x;
            double sum = x;
            for (int n = 1; n < 60; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            return TWO_OVER_SQRT_PI * sum;
        }
        if (ax > 6) {
            return Math.signum(x);
        }
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
        double f = ax;
        double tiny = 1e-300;
        double c = f;
        double d = 0;
        for (int n = 1; n < 200; n++) {
            double a = n / 2.0;
            d = ax + a * d;
            d = Math.abs(d) < tiny ? tiny : d;
            c = ax + a / c;
            c = Math.abs(c) < tiny ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) {
                break;
            }
        }
        double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        return Math.signum(x) * (1 - erfc);
    }

    /** Exact GELU in double: {@code 0.5 x (1 + erf(x / sqrt 2))}. */
    public static double gelu(double x) {
        return 0.5 * x * (1 + erf(x * SQRT_HALF));
    }
}
