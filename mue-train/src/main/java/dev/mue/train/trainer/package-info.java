/**
 * Training with MuE's layer-wise task loss (paper §3.3, reference {@code MuE_Task_Loss}) on DJL
 * autograd, reusing the PyTorch backend's forward code ({@code dev.mue.backend.torch.forward}).
 *
 * <ul>
 *   <li>{@link dev.mue.train.trainer.TrainExample}: one captioning or visual-entailment example as
 *       encoder tokens, teacher-forced decoder input, targets, the positions that count, the
 *       allowed-token constraint and the label smoothing.</li>
 *   <li>{@link dev.mue.train.trainer.TrainableModel}: the model's parameters as autograd leaves,
 *       and their export back to OFA-named weights.</li>
 *   <li>{@link dev.mue.train.trainer.LayerWiseLoss}: the unweighted sum over every decoder layer
 *       i of the (label-smoothed) cross-entropy of softmax(E · LN_dec(h_i)), E the tied token
 *       embedding, LN_dec the shared final decoder LayerNorm; the encoder is the decomposed one at
 *       full depth.</li>
 *   <li>{@link dev.mue.train.trainer.Trainer}: Adam with decoupled weight decay, warm-up then
 *       linear decay, global-norm gradient clipping, seeded data order, checkpoints and resume,
 *       export of an F16 bundle.</li>
 *   <li>{@link dev.mue.train.trainer.GridTraining}: the recipe of the shipped default model
 *       (vocabulary, the {@code mue-grid} architecture, seeded initial weights, the interleaved
 *       captioning and entailment examples of the Fashion-MNIST grid tasks), and
 *       {@link dev.mue.train.trainer.TrainingRun}: a whole run of it with validation losses,
 *       atomic checkpoints, resume and export ({@code mue train}).</li>
 * </ul>
 *
 * <p>The relative-position tables are trained (each step rebuilds the attention biases from them),
 * and so are the ResNet's convolutions and BatchNorms, unfolded, BatchNorm with batch statistics
 * while training and its running statistics otherwise (see {@link
 * dev.mue.train.trainer.TrainableModel}). Not trained (kept at their initial values): the absolute
 * position embeddings, their LayerNorms and the position q/k linears (they enter the forward only
 * as the planner's folded absolute attention biases). No dropout or drop-path.
 */
package dev.mue.train.trainer;
