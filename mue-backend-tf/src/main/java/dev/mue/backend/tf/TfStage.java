package dev.mue.backend.tf;

import dev.mue.api.plan.Stream;
import dev.mue.api.policy.KvPolicy;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * One stack of layers with exit gates, described so that {@link TfChain} can compile it into
 * nested {@code If} functions and {@link TfEagerExecutable} can drive the same ops from the host.
 *
 * <p>The state that flows through the stack is the hidden state {@code x}, the per-call context
 * (biases, position, cross-attention keys and values: read, never changed), the caches (the decoder's
 * self-attention keys, values and key masks per layer: updated by each layer and by the exit
 * branch) and the weights of every layer.
 */
abstract class TfStage {

    /** An argument of the stage's functions: its type and shape ({@code -1} for a size known at run time). */
    record Arg(Class<? extends TType> type, Shape shape) {
    }

    /** The result of one layer: its output and the caches after it. */
    record Step(Operand<TFloat32> y, List<Operand<?>> cache) {
    }

    final String name;
    final Stream stream;
    final int layers;
    final int minExitLayer;
    final TfLayers ops;

    TfStage(String name, Stream stream, int layers, int minExitLayer, TfLayers ops) {
        this.name = name;
        this.stream = stream;
        this.layers = layers;
        this.minExitLayer = minExitLayer;
        this.ops = ops;
    }

    /** Whether the gate after layer {@code l} (1-based) can exit: not after the last layer, not below the minimum. */
    final boolean gateEnabled(int l) {
        return l < layers && l >= minExitLayer;
    }

    abstract Shape xShape();

    abstract List<Arg> ctxArgs();

    List<Arg> cacheArgs() {
        return List.of();
    }

    abstract List<Arg> weightArgs();

    /** Layer {@code l} (1-based). */
    abstract Step layer(Ops tf, int l, Operand<TFloat32> x, List<Operand<?>> ctx, List<Operand<?>> cache,
            List<Operand<?>> w);

    /** What the exit branch after layer {@code l} does to the caches of the layers it skips. */
    List<Operand<?>> exitFill(Ops tf, int l, Operand<TFloat32> y, List<Operand<?>> ctx, List<Operand<?>> cache,
            List<Operand<?>> w) {
        return cache;
    }

    static List<Arg> repeat(int n, Arg a) {
        List<Arg> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(a);
        }
        return out;
    }

    static List<Arg> weightArgs(List<TfWeights.Host> perLayerExample, int layers) {
        List<Arg> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            for (TfWeights.Host h : perLayerExample) {
                out.add(new Arg(TFloat32.class, Shape.of(h.shape())));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Operand<TFloat32> f32(Operand<?> o) {
        return (Operand<TFloat32>) o;
    }

    // ------------------------------------------------------------------ encoder streams

    /**
     * An encoder stream (image, text or joint: they differ only in the biases passed in) over one
     * example's tokens {@code [T, d]}. Context: the bias {@code [H, T, T]} of every layer.
     */
    static final class Encoder extends TfStage {
        private final TfWeights w;

        Encoder(TfWeights w, TfLayers ops, int minExitLayer) {
            super("enc", Stream.JOINT, w.config.encoderLayers(), minExitLayer, ops);
            this.w = w;
        }

        @Override
        Shape xShape() {
            return Shape.of(-1, ops.d);
        }

        @Override
        List<Arg> ctxArgs() {
            return repeat(layers, new Arg(TFloat32.class, Shape.of(ops.heads, -1, -1)));
        }

        @Override
        List<Arg> weightArgs() {
            return weightArgs(w.encoder.get(0), layers);
        }

        @Override
        Step layer(Ops tf, int l, Operand<TFloat32> x, List<Operand<?>> ctx, List<Operand<?>> cache,
                List<Operand<?>> wl) {
            return new Step(ops.encoderLayer(tf, l, x, f32(ctx.get(l - 1)), wl), cache);
        }
    }

    // ------------------------------------------------------------------ one decoding step of one row

    /**
     * One decoding step of one row: the new token's hidden state {@code [1, d]} at position
     * {@code pos}. Context: {@code pos}, per layer the self-attention bias row {@code [H, 1, P]},
     * per layer the example's cross keys and values {@code [N, d]}, and the cross bias row
     * {@code [H, 1, N]}. Caches, per layer: keys {@code [P, d]}, values {@code [P, d]} and the
     * additive key mask {@code [P]} (0 where the layer holds the position, -inf where not), a slot
     * per position so that every key keeps the bias of its real position.
     */
    static final class Decoder extends TfStage {
        private final TfWeights w;
        private final int positions;
        private final KvPolicy kv;

        Decoder(TfWeights w, TfLayers ops, int minExitLayer, int positions, KvPolicy kv) {
            super("dec", Stream.DECODER, w.config.decoderLayers(), minExitLayer, ops);
            this.w = w;
            this.positions = positions;
            this.kv = kv;
        }

        @Override
        Shape xShape() {
            return Shape.of(1, ops.d);
        }

        @Override
        List<Arg> ctxArgs() {
            List<Arg> out = new ArrayList<>();
            out.add(new Arg(TInt32.class, Shape.scalar()));
            out.addAll(repeat(layers, new Arg(TFloat32.class, Shape.of(ops.heads, 1, positions))));
            out.addAll(repeat(2 * layers, new Arg(TFloat32.class, Shape.of(-1, ops.d))));
            out.add(new Arg(TFloat32.class, Shape.of(ops.heads, 1, -1)));
            return out;
        }

        @Override
        List<Arg> cacheArgs() {
            List<Arg> out = new ArrayList<>();
            out.addAll(repeat(2 * layers, new Arg(TFloat32.class, Shape.of(positions, ops.d))));
            out.addAll(repeat(layers, new Arg(TFloat32.class, Shape.of(positions))));
            return out;
        }

        @Override
        List<Arg> weightArgs() {
            return weightArgs(w.decoder.get(0), layers);
        }

        @SuppressWarnings("unchecked")
        private static Operand<TInt32> slot(Ops tf, List<Operand<?>> ctx) {
            return tf.reshape((Operand<TInt32>) ctx.get(0), tf.constant(new int[] {1, 1}));
        }

        private Operand<TFloat32> present(Ops tf, Operand<TFloat32> mask, Operand<TInt32> slot) {
            return tf.tensorScatterNdUpdate(mask, slot, tf.constant(new float[] {0f}));
        }

        @Override
        Step layer(Ops tf, int l, Operand<TFloat32> x, List<Operand<?>> ctx, List<Operand<?>> cache,
                List<Operand<?>> wl) {
            Operand<TInt32> slot = slot(tf, ctx);
            List<Operand<?>> next = new ArrayList<>(cache);
            Operand<TFloat32> y = ops.decoderLayer(tf, l, x, (k, v) -> {
                Operand<TFloat32> keys = tf.tensorScatterNdUpdate(f32(cache.get(l - 1)), slot, k);
                Operand<TFloat32> values = tf.tensorScatterNdUpdate(f32(cache.get(layers + l - 1)), slot, v);
                Operand<TFloat32> mask = present(tf, f32(cache.get(2 * layers + l - 1)), slot);
                next.set(l - 1, keys);
                next.set(layers + l - 1, values);
                next.set(2 * layers + l - 1, mask);
                Operand<TFloat32> bias = tf.math.add(f32(ctx.get(l)),
                        tf.reshape(mask, tf.constant(new int[] {1, 1, positions})));
                @SuppressWarnings("unchecked")
                Operand<TFloat32>[] r = (Operand<TFloat32>[]) new Operand<?>[] {keys, values, bias};
                return r;
            }, f32(ctx.get(1 + layers + l - 1)), f32(ctx.get(1 + 2 * layers + l - 1)), f32(ctx.get(1 + 3 * layers)), wl);
            return new Step(y, next);
        }

        @Override
        List<Operand<?>> exitFill(Ops tf, int l, Operand<TFloat32> y, List<Operand<?>> ctx, List<Operand<?>> cache,
                List<Operand<?>> wl) {
            if (kv == KvPolicy.OMIT || l >= layers) {
                return cache;
            }
            Operand<TInt32> slot = slot(tf, ctx);
            List<Operand<?>> next = new ArrayList<>(cache);
            Operand<TFloat32> k = null;
            Operand<TFloat32> v = null;
            if (kv == KvPolicy.COPY) {
                @SuppressWarnings("unchecked")
                Operand<TInt32> pos = tf.reshape((Operand<TInt32>) ctx.get(0), tf.constant(new int[] {1}));
                k = tf.gather(f32(cache.get(l - 1)), pos, tf.constant(0));
                v = tf.gather(f32(cache.get(layers + l - 1)), pos, tf.constant(0));
            }
            for (int j = l + 1; j <= layers; j++) {
                Ops s = tf.withSubScope(name + "_kv_L" + j);
                if (kv == KvPolicy.PROPAGATE) {
                    Operand<TFloat32>[] kvj = ops.decoderKv(s, j, y, wl);
                    k = kvj[0];
                    v = kvj[1];
                }
                next.set(j - 1, s.tensorScatterNdUpdate(f32(cache.get(j - 1)), slot, k));
                next.set(layers + j - 1, s.tensorScatterNdUpdate(f32(cache.get(layers + j - 1)), slot, v));
                next.set(2 * layers + j - 1, present(s, f32(cache.get(2 * layers + j - 1)), slot));
            }
            return next;
        }
    }

    // ------------------------------------------------------------------ scoring pass of one example

    /**
     * The non-incremental decoder pass over one example's rows packed into {@code [N, d]} (visual
     * entailment scoring; one gate decision over all of them). Context: per layer the
     * self-attention bias {@code [H, N, N]} (causal within each row, -inf across rows), per layer the
     * cross keys and values {@code [M, d]}, and the cross bias {@code [H, N, M]}.
     */
    static final class Scorer extends TfStage {
        private final TfWeights w;

        Scorer(TfWeights w, TfLayers ops, int minExitLayer) {
            super("score", Stream.DECODER, w.config.decoderLayers(), minExitLayer, ops);
            this.w = w;
        }

        @Override
        Shape xShape() {
            return Shape.of(-1, ops.d);
        }

        @Override
        List<Arg> ctxArgs() {
            List<Arg> out = new ArrayList<>();
            out.addAll(repeat(layers, new Arg(TFloat32.class, Shape.of(ops.heads, -1, -1))));
            out.addAll(repeat(2 * layers, new Arg(TFloat32.class, Shape.of(-1, ops.d))));
            out.add(new Arg(TFloat32.class, Shape.of(ops.heads, -1, -1)));
            return out;
        }

        @Override
        List<Arg> weightArgs() {
            return weightArgs(w.decoder.get(0), layers);
        }

        @Override
        Step layer(Ops tf, int l, Operand<TFloat32> x, List<Operand<?>> ctx, List<Operand<?>> cache,
                List<Operand<?>> wl) {
            Operand<TFloat32> bias = f32(ctx.get(l - 1));
            Operand<TFloat32> y = ops.decoderLayer(tf, l, x, (k, v) -> {
                @SuppressWarnings("unchecked")
                Operand<TFloat32>[] r = (Operand<TFloat32>[]) new Operand<?>[] {k, v, bias};
                return r;
            }, f32(ctx.get(layers + l - 1)), f32(ctx.get(2 * layers + l - 1)), f32(ctx.get(3 * layers)), wl);
            return new Step(y, cache);
        }
    }
}
