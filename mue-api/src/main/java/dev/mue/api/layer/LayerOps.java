package dev.mue.api.layer;

import dev.mue.api.exit.GateMeasure;
import dev.mue.api.plan.Stream;
import java.util.List;

/**
 * The layer SPI: what an interpretive backend does for the runtime, over its own tensor types,
 * for one prepared plan (design §10.1). Every operation is a piece of the model; none decides an
 * exit, compacts a batch on its own, or chooses what a skipped layer keeps: the runtime does, from
 * the plan. A backend may fuse work inside an operation, lay out memory and use threads as it
 * likes, as long as each segment's result does not depend on the other segments of the call
 * (design §4: batch == singles).
 *
 * <p>States ({@code X}) are an ordered list of <em>segments</em>, each a sequence of hidden states
 * {@code [tokens, d]}: an example's image or text stream, one decoder row's new token, or one
 * scoring row. Layer numbers are 1-based. Operations are called from one thread at a time per
 * workspace; different workspaces may be used concurrently.
 *
 * @param <X> the backend's states: segments of hidden states
 * @param <M> the backend's encoder memory: per example the encoder output after the final encoder
 *            LayerNorm, and the cross-attention keys and values of the decoder layers prepared so far
 * @param <C> the backend's decoder caches: per row and decoder layer, the self-attention keys and
 *            values of the positions that layer holds
 */
public interface LayerOps<X, M, C> extends AutoCloseable {

    /** A new top-level workspace. */
    Workspace workspace();

    // ------------------------------------------------------------------ encoder stage

    /**
     * The image embedding of each image (CHW float32 {@code [3, S, S]}): ResNet backbone,
     * {@code image_proj}, type embedding 1, {@code patch_layernorm_embedding}; one segment of
     * {@code (S/16)^2} tokens per image.
     */
    X embedImages(Workspace ws, List<float[]> images);

    /** The text embedding of each token sequence: token and type-0 embeddings, {@code layernorm_embedding}. */
    X embedTexts(Workspace ws, List<int[]> texts);

    /** Segment-wise concatenation: segment {@code i} of the result is {@code [first_i ; second_i]}. */
    X concat(Workspace ws, X first, X second);

    /**
     * Encoder layer {@code layer} over every segment, each attending only to itself, with the
     * folded position bias of {@code stream}'s site (image, text or joint).
     */
    X encoderLayer(Workspace ws, Stream stream, int layer, X x);

    /** The final encoder LayerNorm of every segment, kept as the decoder's memory (one example per segment). */
    M encoderOutput(Workspace ws, X x);

    /** Example {@code example}'s encoder output on the host, row-major {@code [tokens, d]}. */
    float[] memoryRows(M memory, int example);

    /**
     * Computes and keeps the cross-attention keys and values of decoder layer {@code layer} for
     * {@code examples}, or makes sure they will be computed when first attended to (a backend that
     * can attend without them, as the Java backend's scoring pass may, defers them); called once
     * per example and layer, before the first token reaches it.
     */
    void prepareCross(M memory, int layer, int[] examples);

    // ------------------------------------------------------------------ decoder stage

    /** Decoder input embeddings: token embedding, {@code decoder.layernorm_embedding}; a segment per sequence. */
    X embedDecoder(Workspace ws, int[][] sequences);

    /** Empty decoder caches for {@code rows} rows of at most {@code capacity} positions, living in {@code ws}. */
    C caches(Workspace ws, int rows, int capacity);

    /**
     * Decoder layer {@code layer} for one new token per segment: segment {@code i} is row
     * {@code rows[i]} at position {@code positions[i]}; its key and value at this layer are
     * appended to the row's cache, its self-attention covers the positions the row's cache holds at
     * this layer (with their own positions' bias), its cross-attention covers the encoder output of
     * example {@code examples[i]}, whose keys and values for the layer are prepared.
     */
    X decoderStep(Workspace ws, int layer, X x, C caches, int[] rows, int[] positions, M memory, int[] examples);

    /**
     * Appends to layer {@code layer} of each row's cache the key and value that layer computes
     * from {@code hidden} (segment {@code i}: row {@code rows[i]}'s exit state at position
     * {@code positions[i]}), through its self-attention LayerNorm and projections.
     */
    void propagateKv(Workspace ws, C caches, int layer, int[] rows, int[] positions, X hidden);

    /**
     * Appends to layer {@code layer} of each row's cache a copy of the entry layer
     * {@code fromLayer} holds for position {@code positions[i]}.
     */
    void copyKv(C caches, int layer, int fromLayer, int[] rows, int[] positions);

    /**
     * The caches re-formed: new row {@code r} continues old row {@code parents[r]} (rows may be
     * duplicated, for branching beams, or dropped). The old caches may not be used afterwards.
     */
    C reorder(C caches, int[] parents);

    /**
     * Decoder layer {@code layer} over whole sequences (visual-entailment scoring): each segment
     * attends causally to itself from position 0 and to the encoder output of example
     * {@code examples[i]}, whose keys and values for the layer are prepared.
     */
    X decoderPass(Workspace ws, int layer, X x, M memory, int[] examples);

    // ------------------------------------------------------------------ both stages

    /**
     * Gathers segments: segment {@code k} of the result is segment {@code segment[k]} of
     * {@code sources.get(source[k])} (compaction keeps a subset, a join merges in example order).
     */
    X gather(Workspace ws, List<X> sources, int[] source, int[] segment);

    /**
     * One gate measure per group of consecutive segments, group {@code g} being segments
     * {@code [groupEnds[g-1], groupEnds[g])} ({@code groupEnds[-1]} = 0): {@link GateMeasure#COSINE}
     * of {@code out} and {@code in} flattened over the group's tokens, or {@link
     * GateMeasure#TOP_PROBABILITY} of {@code out} (the smallest over the group's positions; {@code in}
     * is not read).
     */
    double[] measure(GateMeasure measure, X out, X in, int[] groupEnds);

    /**
     * Vocabulary logits (final decoder LayerNorm, tied projection) of every segment's positions
     * from {@code first[i]} on, on the host: {@code [segment][position - first][V]}.
     */
    float[][][] logits(Workspace ws, X x, int[] first);

    /** Releases what the backend prepared for the plan. */
    @Override
    void close();
}
