package dev.mue.backend.tf;

import dev.mue.api.plan.Stream;
import dev.mue.api.plan.KvFill;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanNode;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Stack;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * One stack of layers with exit gates, read from the plan's nodes so that {@link TfChain} can
 * compile it into nested {@code If} functions (one per enabled gate node), and the ops the eager
 * mode ({@link TfEagerOps}) drives one layer at a time.
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

    /**
     * A layer node of the plan and the gate node that follows it (null after the last layer).
     *
     * @param layer the layer node
     * @param gate  its gate, or null
     */
    record Level(PlanNode layer, PlanNode.ExitGate gate) {
    }

    final String name;
    final Stream stream;
    final List<Level> levels;
    final int layers;
    final TfLayers ops;

    TfStage(String name, Plan plan, Stream stream, TfLayers ops) {
        this.name = name;
        this.stream = stream;
        this.levels = walk(plan, stream);
        this.layers = levels.size();
        this.ops = ops;
    }

    /**
     * The levels of {@code stream}, found by walking the plan's edges from the stream's first layer:
     * a layer, then its gate (whose {@code else} edge leads to the next layer) or the join.
     */
    static List<Level> walk(Plan plan, Stream stream) {
        PlanNode node = plan.layers(stream).get(0);
        List<Level> out = new ArrayList<>();
        while (true) {
            List<Plan.Edge> next = plan.outgoing(node.id());
            PlanNode after = plan.nodes().get(next.get(0).to());
            if (after instanceof PlanNode.ExitGate g) {
                out.add(new Level(node, g));
                node = plan.nodes().get(g.elseNode());
            } else {
                out.add(new Level(node, null));
                return List.copyOf(out);
            }
        }
    }

    /**
     * Whether the gate after layer {@code l} (1-based) is a branch: an enabled gate node. A gate
     * below the policy's minimum layer is measured and recorded but never taken; the last layer has
     * no gate.
     */
    final boolean gateEnabled(int l) {
        PlanNode.ExitGate g = levels.get(l - 1).gate();
        return g != null && g.enabled();
    }

    /** The gates' structure, for sharing one compiled chain between streams of the same shape. */
    final String shape() {
        StringBuilder sb = new StringBuilder();
        for (Level lv : levels) {
            sb.append(lv.gate() == null ? "L" : lv.gate().enabled() ? "G" + lv.gate().criterion() : "g");
        }
        return sb.toString();
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

        Encoder(TfWeights w, Plan plan, Stream stream, TfLayers ops, String name) {
            super(name, plan, stream, ops);
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

    // ------------------------------------------------------------------ one decoding step of a batch of rows

    /**
     * One decoding step of a batch of rows, each its own new token: hidden states {@code [n, d]},
     * one row each. Context (row-indexed entries hold one row per hidden state): the rows' indices
     * in the caches' batch {@code [n]}, their positions {@code [n]}, per layer the self-attention
     * bias rows {@code [n, H, 1, P]}, per layer the cross keys and values of the step's examples
     * {@code [E, M, d]} (not row-indexed), each row's example slot among them {@code [n]}, and the
     * cross bias rows {@code [n, H, 1, M]} (-inf over an example's padding). Caches, per layer, for
     * every row of the batch: keys {@code [R, P, d]}, values {@code [R, P, d]} and the additive key
     * mask {@code [R, P]} (0 where the layer holds the position, -inf where not), a slot per
     * position so that every key keeps the bias of its real position. A layer reads and writes the
     * caches of its rows only, so one definition serves the graphs' batched chain ({@link TfRowChain},
     * which runs each level on the rows still active) and the eager mode (one row at a time).
     *
     * <p>When every row decodes the same example ({@code oneExample}: a beam, or a single row), the
     * cross keys and values are that example's {@code [1, M, d]}, shared by every row through the
     * attention's broadcast instead of gathered per row.
     */
    static final class Decoder extends TfStage {
        /** Context index of the rows' cache indices. */
        static final int ROWS = 0;
        /** Context index of the rows' positions. */
        static final int POSITIONS = 1;
        private final TfWeights w;
        private final int positions;
        private final Plan plan;
        /** Whether every row decodes one example, whose cross keys and values all rows share. */
        final boolean oneExample;

        Decoder(TfWeights w, Plan plan, TfLayers ops, int positions, boolean oneExample) {
            super("dec", plan, Stream.DECODER, ops);
            this.w = w;
            this.positions = positions;
            this.plan = plan;
            this.oneExample = oneExample;
        }

        @Override
        Shape xShape() {
            return Shape.of(-1, ops.d);
        }

        @Override
        List<Arg> ctxArgs() {
            List<Arg> out = new ArrayList<>();
            out.add(new Arg(TInt32.class, Shape.of(-1)));
            out.add(new Arg(TInt32.class, Shape.of(-1)));
            out.addAll(repeat(layers, new Arg(TFloat32.class, Shape.of(-1, ops.heads, 1, positions))));
            out.addAll(repeat(2 * layers, new Arg(TFloat32.class, Shape.of(-1, -1, ops.d))));
            out.add(new Arg(TInt32.class, Shape.of(-1)));
            out.add(new Arg(TFloat32.class, Shape.of(-1, ops.heads, 1, -1)));
            return out;
        }

        /** Context index of the rows' example slots in the cross keys and values. */
        private int crossSlot() {
            return 2 + 3 * layers;
        }

        @Override
        List<Arg> cacheArgs() {
            List<Arg> out = new ArrayList<>();
            out.addAll(repeat(2 * layers, new Arg(TFloat32.class, Shape.of(-1, positions, ops.d))));
            out.addAll(repeat(layers, new Arg(TFloat32.class, Shape.of(-1, positions))));
            return out;
        }

        @Override
        List<Arg> weightArgs() {
            return weightArgs(w.decoder.get(0), layers);
        }

        /** The rows' indices in the caches' batch (context entry {@link #ROWS}). */
        @SuppressWarnings("unchecked")
        static Operand<TInt32> rows(List<Operand<?>> ctx) {
            return (Operand<TInt32>) ctx.get(ROWS);
        }

        /**
         * The context of the rows at {@code at} (indices into the context's rows): the row-indexed
         * entries gathered, the cross keys and values as they are.
         */
        List<Operand<?>> select(Ops tf, List<Operand<?>> ctx, Operand<TInt32> at) {
            List<Operand<?>> out = new ArrayList<>(ctx);
            Map<Operand<?>, Operand<?>> made = new IdentityHashMap<>();
            for (int k = 0; k < ctx.size(); k++) {
                if (k < 2 + layers || k >= crossSlot()) {
                    out.set(k, made.computeIfAbsent(ctx.get(k), o -> gatherRows(tf, o, at)));
                }
            }
            return out;
        }

        @SuppressWarnings("unchecked")
        private static Operand<?> gatherRows(Ops tf, Operand<?> o, Operand<TInt32> at) {
            return tf.gather((Operand<TType>) o, at, tf.constant(0));
        }

        /** The {@code [n, 2]} scatter indices (row, position) of the context's rows. */
        @SuppressWarnings("unchecked")
        static Operand<TInt32> slots(Ops tf, List<Operand<?>> ctx) {
            return tf.stack(List.of(rows(ctx), (Operand<TInt32>) ctx.get(POSITIONS)), Stack.axis(1L));
        }

        /** {@code mask} with the entries at {@code slots} ({@code [n, 2]}) set to 0: present. */
        private static Operand<TFloat32> present(Ops tf, Operand<TFloat32> mask, Operand<TInt32> slots) {
            Operand<TInt32> n = tf.slice(tf.shape(slots), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
            return tf.tensorScatterNdUpdate(mask, slots, tf.fill(n, tf.constant(0f)));
        }

        /**
         * Layer {@code l}'s entries at {@code slots} ({@code [n, 2]}: row, position) in {@code cache}
         * ({@code [n, d]} keys and values): what {@link KvFill.Copy} copies.
         */
        Operand<TFloat32>[] entry(Ops tf, List<Operand<?>> cache, int l, Operand<TInt32> slots) {
            @SuppressWarnings("unchecked")
            Operand<TFloat32>[] kv = (Operand<TFloat32>[]) new Operand<?>[] {
                tf.gatherNd(f32(cache.get(l - 1)), slots), tf.gatherNd(f32(cache.get(layers + l - 1)), slots)};
            return kv;
        }

        /** {@code cache} with layer {@code l}'s entries at {@code slots} set to {@code kv} and marked present. */
        List<Operand<?>> store(Ops tf, List<Operand<?>> cache, int l, Operand<TInt32> slots, Operand<TFloat32>[] kv) {
            List<Operand<?>> next = new ArrayList<>(cache);
            next.set(l - 1, tf.tensorScatterNdUpdate(f32(cache.get(l - 1)), slots, kv[0]));
            next.set(layers + l - 1, tf.tensorScatterNdUpdate(f32(cache.get(layers + l - 1)), slots, kv[1]));
            next.set(2 * layers + l - 1, present(tf, f32(cache.get(2 * layers + l - 1)), slots));
            return next;
        }

        /**
         * What one skipped layer gets for the rows at {@code slots} whose exit hidden states are
         * {@code y} (the action the plan's KV policy names), applied to {@code cache}: for the
         * graphs' exit branches and the eager mode alike.
         */
        List<Operand<?>> fill(Ops tf, KvFill fill, Operand<TFloat32> y, Operand<TInt32> slots, List<Operand<?>> cache,
                List<? extends Operand<?>> wl) {
            Ops s = tf.withSubScope(name + "_kv_L" + fill.layer());
            Operand<TFloat32>[] kv = switch (fill) {
                case KvFill.Propagate p -> ops.decoderKv(s, p.layer(), y, wl);
                case KvFill.Copy c -> entry(s, cache, c.fromLayer(), slots);
            };
            return store(s, cache, fill.layer(), slots, kv);
        }

        @Override
        @SuppressWarnings("unchecked")
        Step layer(Ops tf, int l, Operand<TFloat32> x, List<Operand<?>> ctx, List<Operand<?>> cache,
                List<Operand<?>> wl) {
            Operand<TInt32> rows = rows(ctx);
            Operand<TInt32> slots = slots(tf, ctx);
            Operand<TInt32> slot = (Operand<TInt32>) ctx.get(crossSlot());
            Operand<TInt32> axis = tf.constant(0);
            List<Operand<?>> next = new ArrayList<>(cache);
            Operand<TFloat32> y = ops.decoderLayer(tf, l, x, (k, v) -> {
                List<Operand<?>> written = store(tf, cache, l, slots, (Operand<TFloat32>[]) new Operand<?>[] {k, v});
                for (int j : new int[] {l - 1, layers + l - 1, 2 * layers + l - 1}) {
                    next.set(j, written.get(j));
                }
                Operand<TFloat32> mask = tf.gather(f32(written.get(2 * layers + l - 1)), rows, axis);
                Operand<TFloat32> bias = tf.math.add(f32(ctx.get(2 + l - 1)),
                        tf.reshape(mask, tf.constant(new int[] {-1, 1, 1, positions})));
                Operand<TFloat32>[] r = (Operand<TFloat32>[]) new Operand<?>[] {
                    tf.gather(f32(written.get(l - 1)), rows, axis), tf.gather(f32(written.get(layers + l - 1)), rows, axis),
                    bias};
                return r;
            }, crossRows(tf, ctx.get(2 + layers + l - 1), slot), crossRows(tf, ctx.get(2 + 2 * layers + l - 1), slot),
                    f32(ctx.get(crossSlot() + 1)), wl);
            return new Step(y, next);
        }

        /** The cross keys or values {@code kv} of the rows whose example slots are {@code slot}. */
        private Operand<TFloat32> crossRows(Ops tf, Operand<?> kv, Operand<TInt32> slot) {
            return oneExample ? f32(kv) : tf.gather(f32(kv), slot, tf.constant(0));
        }

        @Override
        List<Operand<?>> exitFill(Ops tf, int l, Operand<TFloat32> y, List<Operand<?>> ctx, List<Operand<?>> cache,
                List<Operand<?>> wl) {
            List<Operand<?>> next = cache;
            Operand<TInt32> slots = slots(tf, ctx);
            for (KvFill fill : plan.kvFillAfterExit(l)) {
                next = fill(tf, fill, y, slots, next, wl);
            }
            return next;
        }

        /** Whether an exit after layer {@code l} fills any skipped layer's caches (not under OMIT). */
        boolean fills(int l) {
            return !plan.kvFillAfterExit(l).isEmpty();
        }
    }

    // ------------------------------------------------------------------ scoring pass of one example

    /**
     * The non-incremental decoder pass over one example's rows packed into {@code [N, d]} (visual
     * entailment scoring; one gate decision over all of them). Context: per layer the
     * self-attention bias {@code [H, N, N]} (causal within each row, -inf across rows), the example's
     * encoder output {@code [M, d]}, per layer the cross-attention key and value projections (weight,
     * bias, weight, bias), and the cross bias {@code [H, N, M]}. Each layer computes its own cross
     * keys and values from the encoder output, so a layer the pass skips never computes them (design
     * §4: computed when first reached).
     */
    static final class Scorer extends TfStage {
        private final TfWeights w;

        Scorer(TfWeights w, Plan plan, TfLayers ops) {
            super("score", plan, Stream.DECODER, ops);
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
            out.add(new Arg(TFloat32.class, Shape.of(-1, ops.d)));
            for (List<TfWeights.Host> cw : w.cross) {
                for (TfWeights.Host h : cw) {
                    out.add(new Arg(TFloat32.class, Shape.of(h.shape())));
                }
            }
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
            Operand<TFloat32> encoded = f32(ctx.get(layers));
            int cw = layers + 1 + 4 * (l - 1);
            Ops s = tf.withSubScope(name + "_cross_L" + l);
            Operand<TFloat32> ck = TfLayers.linear(s, encoded, f32(ctx.get(cw)), f32(ctx.get(cw + 1)));
            Operand<TFloat32> cv = TfLayers.linear(s, encoded, f32(ctx.get(cw + 2)), f32(ctx.get(cw + 3)));
            Operand<TFloat32> y = ops.decoderLayer(tf, l, x, (k, v) -> {
                @SuppressWarnings("unchecked")
                Operand<TFloat32>[] r = (Operand<TFloat32>[]) new Operand<?>[] {k, v, bias};
                return r;
            }, ck, cv, f32(ctx.get(layers + 1 + 4 * layers)), wl);
            return new Step(y, cache);
        }
    }
}
