package dev.mue.train.trainer;

/**
 * Optimisation settings.
 *
 * @param learningRate peak learning rate
 * @param warmupSteps  linear warm-up from 0 over this many steps
 * @param totalSteps   the learning rate then decays linearly to 0 at this step
 * @param weightDecay  decoupled weight decay (AdamW form, as fairseq's Adam applies it)
 * @param clipNorm     gradients are scaled so that their global L2 norm is at most this; 0 disables
 * @param batchSize    examples per step
 * @param seed         seeds the data order (the model's initial weights are the caller's)
 * @param beta1        Adam's first-moment decay
 * @param beta2        Adam's second-moment decay
 * @param adamEps      Adam's epsilon
 * @param finalLayerOnly train on the last decoder layer's cross-entropy alone (the usual loss; the
 *                     ablation baseline of the layer-wise loss) instead of the sum over layers
 * @param encoderExitRate the share of examples whose encoder streams stop, each at its own layer
 *                     drawn uniformly from 1..L (image and text independently), so that the decoder
 *                     learns to read a shallow encoder state as MuE's encoder exits hand it one; 0 is
 *                     the paper's recipe (the encoder always at full depth)
 */
public record TrainerOptions(double learningRate, int warmupSteps, int totalSteps, double weightDecay, double clipNorm,
        int batchSize, long seed, double beta1, double beta2, double adamEps, boolean finalLayerOnly,
        double encoderExitRate) {

    /** Checks the ranges. */
    public TrainerOptions {
        if (!(learningRate > 0) || warmupSteps < 0 || totalSteps <= 0 || weightDecay < 0 || clipNorm < 0
                || batchSize <= 0) {
            throw new IllegalArgumentException("invalid trainer options");
        }
        if (!(encoderExitRate >= 0 && encoderExitRate <= 1)) {
            throw new IllegalArgumentException("the encoder exit rate must be in [0, 1], got " + encoderExitRate);
        }
    }

    /** OFA's fine-tuning defaults (betas 0.9/0.999, eps 1e-8, weight decay 0.01, clip 1.0, 6% warm-up). */
    public static TrainerOptions of(double learningRate, int totalSteps, int batchSize, long seed) {
        return new TrainerOptions(learningRate, Math.max(1, (int) Math.round(totalSteps * 0.06)), totalSteps, 0.01, 1.0,
                batchSize, seed, 0.9, 0.999, 1e-8, false, 0);
    }

    /** The same options training on the last decoder layer's loss alone (or, with false, on every layer's). */
    public TrainerOptions withFinalLayerOnly(boolean finalOnly) {
        return new TrainerOptions(learningRate, warmupSteps, totalSteps, weightDecay, clipNorm, batchSize, seed, beta1,
                beta2, adamEps, finalOnly, encoderExitRate);
    }

    /** The same options with encoder streams stopped at sampled layers for a share {@code rate} of the examples. */
    public TrainerOptions withEncoderExitRate(double rate) {
        return new TrainerOptions(learningRate, warmupSteps, totalSteps, weightDecay, clipNorm, batchSize, seed, beta1,
                beta2, adamEps, finalLayerOnly, rate);
    }

    /**
     * The encoder depths of the {@code n} examples of 0-based step {@code step}: per example the
     * image stream's and the text stream's last layer (1-based) of {@code layers}. A function of the
     * seed and the step alone, so a resumed run draws what the uninterrupted one would have.
     */
    public int[][] encoderDepths(int step, int n, int layers) {
        int[][] depths = new int[n][2];
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed * 0x9E3779B97F4A7C15L + step);
        for (int[] d : depths) {
            for (int s = 0; s < 2; s++) {
                boolean stop = encoderExitRate > 0 && r.nextDouble() < encoderExitRate;
                d[s] = stop ? 1 + r.nextInt(layers) : layers;
            }
        }
        return depths;
    }

    /** The learning rate of 0-based step {@code step}: linear warm-up, then linear decay to 0. */
    public double learningRate(int step) {
        if (step < warmupSteps) {
            return learningRate * (step + 1) / warmupSteps;
        }
        int span = Math.max(1, totalSteps - warmupSteps);
        return learningRate * Math.max(0.0, (double) (totalSteps - step) / span);
    }
}
