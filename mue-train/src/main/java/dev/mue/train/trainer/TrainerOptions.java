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
 */
public record TrainerOptions(double learningRate, int warmupSteps, int totalSteps, double weightDecay, double clipNorm,
        int batchSize, long seed, double beta1, double beta2, double adamEps, boolean finalLayerOnly) {

    /** Checks the ranges. */
    public TrainerOptions {
        if (!(learningRate > 0) || warmupSteps < 0 || totalSteps <= 0 || weightDecay < 0 || clipNorm < 0
                || batchSize <= 0) {
            throw new IllegalArgumentException("invalid trainer options");
        }
    }

    /** OFA's fine-tuning defaults (betas 0.9/0.999, eps 1e-8, weight decay 0.01, clip 1.0, 6% warm-up). */
    public static TrainerOptions of(double learningRate, int totalSteps, int batchSize, long seed) {
        return new TrainerOptions(learningRate, Math.max(1, (int) Math.round(totalSteps * 0.06)), totalSteps, 0.01, 1.0,
                batchSize, seed, 0.9, 0.999, 1e-8, false);
    }

    /** The same options training on the last decoder layer's loss alone (or, with false, on every layer's). */
    public TrainerOptions withFinalLayerOnly(boolean finalOnly) {
        return new TrainerOptions(learningRate, warmupSteps, totalSteps, weightDecay, clipNorm, batchSize, seed, beta1,
                beta2, adamEps, finalOnly);
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
