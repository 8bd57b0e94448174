/**
 * The float64 reference executor: the executable specification of OFA-style inference with MuE
 * exits (design §3-4), used as the oracle of the conformance suite.
 *
 * <p>Written from the design and the paper digest, independently of every backend. It covers the
 * ResNet backbone, the decomposed and joint encoders, absolute and relative position biases (with
 * and without the image relative bias), the incremental decoder with the three KV policies, the
 * non-incremental scoring pass of visual entailment, and its own beam search. Its arithmetic is
 * float64 with {@link java.lang.StrictMath}, so its results are the same on every JVM.
 *
 * <p>Contract points it encodes, beyond design §3-4:
 * <ul>
 *   <li>Text positions are 0..T-1 of {@code encoder.embed_positions} (LN'd by {@code pos_ln});
 *       image cell (r, c) uses row {@code r * imageBucketSize + c + 1} of
 *       {@code embed_image_positions} (LN'd by {@code image_pos_ln}).</li>
 *   <li>The joint encoder's absolute bias covers every pair of [image ; text] (cross-modal pairs
 *       included) through {@code encoder.pos_q_linear}/{@code pos_k_linear}; relative biases only
 *       inside the text block (1-D buckets) and the image block (2-D, if the policy keeps it).</li>
 *   <li>Decoder self-attention: {@code decoder.pos_ln} positions through
 *       {@code self_pos_q/k_linear} plus the per-layer 1-D relative bias at the keys' real
 *       positions; cross-attention: {@code cross_pos_q_linear} of the decoder position against
 *       {@code cross_pos_k_linear} of the encoder's LN'd positions, no relative part.</li>
 *   <li>No gate after the last layer; gates below {@code minExitLayer} are evaluated and recorded
 *       but never exit.</li>
 * </ul>
 */
package dev.mue.tck.reference;
