package dev.mue.train.trainer;

/**
 * One finished step, as reported to the trainer's progress callback.
 *
 * @param step             steps done so far (1-based)
 * @param loss             the layer-wise loss of this step's batch (before the update)
 * @param learningRate     the learning rate used
 * @param gradNorm         global gradient norm before clipping
 * @param examplesPerSecond throughput of this step
 */
public record Progress(int step, double loss, double learningRate, double gradNorm, double examplesPerSecond) {

    /** The progress line: {@code step 12 loss 3.4567 lr 1.0e-04 grad 1.23 ex/s 45.6}. */
    public String line() {
        return String.format(java.util.Locale.ROOT, "step %d loss %.4f lr %.2e grad %.3f ex/s %.1f", step, loss,
                learningRate, gradNorm, examplesPerSecond);
    }
}
