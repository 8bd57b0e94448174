package dev.mue.session.decode;

/** Log-softmax in double precision, shared by every backend's results so that they rank alike. */
public final class LogSoftmax {
    private LogSoftmax() {
    }

    /** {@code log softmax(logits)} over the whole vector. */
    public static double[] apply(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - lse;
        }
        return out;
    }

    /** {@code log softmax} restricted to {@code allowed}: the log-probability of {@code target} among them. */
    public static double restricted(float[] logits, int[] allowed, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int a : allowed) {
            max = Math.max(max, logits[a]);
        }
        double sum = 0;
        for (int a : allowed) {
            sum += Math.exp(logits[a] - max);
        }
        return logits[target] - (max + Math.log(sum));
    }
}
