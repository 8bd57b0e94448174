package dev.mue.backend.tf;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Operand;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.If;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Stack;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The decoder stage ({@link TfStage.Decoder}) compiled for a batch of rows, each deciding its own
 * exits (design §4: per example and per beam), as one chain of TF functions.
 *
 * <p>Level {@code i} runs layer {@code i} on the rows still active (their hidden states
 * {@code [n, d]} and their context, gathered; the caches stay whole and each layer writes only its
 * rows), then measures each row's similarity ({@link TfLayers#cosineRows}) and records it in the
 * step's {@code sims [R, L-1]}. At an enabled gate, the rows above the threshold
 * ({@link TfLayers#exits}) exit: their hidden state becomes their output, their exit layer is
 * {@code i}, and the exit function {@code <stage>_exit_<i>} fills the skipped layers' caches for
 * them ({@link TfStage#exitFill}), behind an {@code If} on "any row exits" (the identity
 * {@code <stage>_keep_<i>} otherwise) when the KV policy fills anything. The other rows go on to
 * {@code <stage>_level_<i+1>} behind an {@code If} on "any row stays", whose other branch
 * {@code <stage>_pass_<i+1>} returns the state unchanged: a level no row reaches never executes.
 * A gate below the policy's minimum layer is no branch: the similarities are recorded and every
 * row goes on inline. After the last layer every remaining row exits there.
 *
 * <p>A level function takes {@code (x [n, d], sims [R, L-1], out [R, d], exitLayer [R], threshold,
 * context of the n rows..., caches of all R rows..., weights of layers i..L)} and returns
 * {@code (out, exitLayer, sims, caches...)}; an exit function takes {@code (y [m, d], out,
 * exitLayer, context of the m exiting rows..., caches..., weights of layers i+1..L)} and returns
 * {@code (out, exitLayer, caches...)}.
 */
final class TfRowChain implements AutoCloseable {
    private final TfStage.Decoder stage;
    private final ConcreteFunction[] levels;
    private final ConcreteFunction[] passes;
    private final ConcreteFunction[] exits;
    private final ConcreteFunction[] keeps;
    private final List<Class<? extends TType>> levelTypes;
    private final List<Class<? extends TType>> exitTypes;
    /** Weight slots per layer. */
    private final int slots;

    TfRowChain(TfStage.Decoder stage) {
        this.stage = stage;
        int layers = stage.layers;
        this.slots = stage.weightArgs().size() / layers;
        levels = new ConcreteFunction[layers + 1];
        passes = new ConcreteFunction[layers + 1];
        exits = new ConcreteFunction[layers + 1];
        keeps = new ConcreteFunction[layers + 1];
        List<Class<? extends TType>> cacheTypes = new ArrayList<>();
        for (TfStage.Arg a : stage.cacheArgs()) {
            cacheTypes.add(a.type());
        }
        List<Class<? extends TType>> lt = new ArrayList<>(List.of(TFloat32.class, TInt32.class, TFloat64.class));
        lt.addAll(cacheTypes);
        levelTypes = List.copyOf(lt);
        List<Class<? extends TType>> et = new ArrayList<>(List.of(TFloat32.class, TInt32.class));
        et.addAll(cacheTypes);
        exitTypes = List.copyOf(et);
        for (int i = layers; i >= 2; i--) {
            if (stage.gateEnabled(i - 1)) {
                if (stage.fills(i - 1)) {
                    exits[i - 1] = exitFunction(i - 1, false);
                    keeps[i - 1] = exitFunction(i - 1, true);
                }
                levels[i] = levelFunction(i, false);
                passes[i] = levelFunction(i, true);
            }
        }
    }

    /** The functions compiled (per gate: exit, keep, level, pass), for descriptions. */
    List<ConcreteFunction> functions() {
        List<ConcreteFunction> out = new ArrayList<>();
        for (int i = 1; i <= stage.layers; i++) {
            for (ConcreteFunction f : new ConcreteFunction[] {exits[i], keeps[i], levels[i], passes[i]}) {
                if (f != null) {
                    out.add(f);
                }
            }
        }
        return out;
    }

    /** Output of the chain: per row its final hidden state {@code [R, d]}, exit layer, similarities; the caches. */
    record Out(Operand<TFloat32> x, Operand<TInt32> exitLayer, Operand<TFloat64> sims, List<Operand<?>> cache) {
    }

    /**
     * Builds the chain from layer 1 inline in {@code tf}'s graph for the rows of {@code ctx} (all of
     * the caches' rows, in order), with hidden states {@code x [R, d]}.
     */
    Out build(Ops tf, Operand<TFloat32> x, Operand<TFloat64> threshold, List<Operand<?>> ctx, List<Operand<?>> cache,
            List<Operand<?>> w) {
        Operand<TInt32> r = TfStage.Decoder.rows(ctx);
        Operand<TInt32> count = tf.shape(r);
        Operand<TFloat64> sims = tf.zeros(tf.concat(List.of(count, tf.constant(new int[] {Math.max(0, stage.layers - 1)})),
                tf.constant(0)), TFloat64.class);
        Operand<TInt32> exitLayer = tf.zeros(count, TInt32.class);
        List<Operand<?>> o = level(tf, 1, x, sims, tf.zerosLike(x), exitLayer, threshold, ctx, cache, w);
        return new Out(TfStage.f32(o.get(0)), as(o.get(1)), as(o.get(2)), List.copyOf(o.subList(3, o.size())));
    }

    @SuppressWarnings("unchecked")
    private static <T extends TType> Operand<T> as(Operand<?> o) {
        return (Operand<T>) o;
    }

    /** The {@code [n, 1]} scatter indices of the context's rows. */
    private static Operand<TInt32> rowIndex(Ops tf, List<Operand<?>> ctx) {
        return tf.expandDims(TfStage.Decoder.rows(ctx), tf.constant(1));
    }

    /** {@code (out, exitLayer)} with the context's rows set to {@code y} and exit layer {@code layer}. */
    private static List<Operand<?>> exitRows(Ops tf, int layer, Operand<TFloat32> y, List<Operand<?>> ctx,
            Operand<TFloat32> out, Operand<TInt32> exitLayer) {
        Operand<TInt32> at = rowIndex(tf, ctx);
        return List.of(tf.tensorScatterNdUpdate(out, at, y),
                tf.tensorScatterNdUpdate(exitLayer, at, tf.fill(tf.shape(TfStage.Decoder.rows(ctx)), tf.constant(layer))));
    }

    /** The indices {@code [m]} where {@code mask} is true. */
    private static Operand<TInt32> where(Ops tf, Operand<TBool> mask) {
        Operand<TInt64> at = tf.where(mask);
        return tf.reshape(tf.dtypes.cast(at, TInt32.class), tf.constant(new int[] {-1}));
    }

    private List<Operand<?>> level(Ops tf, int i, Operand<TFloat32> x, Operand<TFloat64> sims, Operand<TFloat32> out,
            Operand<TInt32> exitLayer, Operand<TFloat64> threshold, List<Operand<?>> ctx, List<Operand<?>> cache,
            List<Operand<?>> w) {
        Ops s = tf.withSubScope(stage.name + "_L" + i);
        TfStage.Step step = stage.layer(s, i, x, ctx, cache, w);
        Ops g = tf.withSubScope(stage.name + "_gate_L" + i);
        if (i == stage.layers) {
            List<Operand<?>> result = new ArrayList<>(exitRows(g, i, step.y(), ctx, out, exitLayer));
            result.add(sims);
            result.addAll(step.cache());
            return result;
        }
        Operand<TFloat64> sim = TfLayers.cosineRows(g, step.y(), x);
        Operand<TInt32> rows = TfStage.Decoder.rows(ctx);
        Operand<TInt32> at = g.stack(List.of(rows, g.fill(g.shape(rows), g.constant(i - 1))), Stack.axis(1L));
        Operand<TFloat64> recorded = g.tensorScatterNdUpdate(sims, at, sim);
        if (!stage.gateEnabled(i)) {
            return level(tf, i + 1, step.y(), recorded, out, exitLayer, threshold, ctx, step.cache(), w);
        }
        Operand<TBool> exit = TfLayers.exits(g, sim, threshold);
        Operand<TInt32> leaving = where(g, exit);
        Operand<TInt32> staying = where(g, g.math.logicalNot(exit));
        Operand<TInt32> axis = g.constant(0);
        Operand<TInt32> none = g.constant(0);
        // The rows that exit here: output, exit layer and (behind an If) the skipped layers' caches.
        List<Operand<?>> exitCtx = stage.select(g, ctx, leaving);
        Operand<TFloat32> exitY = g.gather(step.y(), leaving, axis);
        List<Operand<?>> afterExit;
        if (exits[i] == null) {
            afterExit = new ArrayList<>(exitRows(g, i, exitY, exitCtx, out, exitLayer));
            afterExit.addAll(step.cache());
        } else {
            List<Operand<?>> inputs = new ArrayList<>(List.of(exitY, out, exitLayer));
            inputs.addAll(exitCtx);
            inputs.addAll(step.cache());
            inputs.addAll(w.subList(i * slots, w.size()));
            If fill = g.withName("exit_if").ifOp(g.math.greater(g.size(leaving, TInt32.class), none), inputs, exitTypes,
                    exits[i], keeps[i]);
            afterExit = new ArrayList<>(fill.output());
        }
        // The rows that stay go on to the next level, which runs only if there are any.
        List<Operand<?>> inputs = new ArrayList<>(List.of(g.gather(step.y(), staying, axis), recorded, afterExit.get(0),
                afterExit.get(1), threshold));
        inputs.addAll(stage.select(g, ctx, staying));
        inputs.addAll(afterExit.subList(2, afterExit.size()));
        // The next level needs only the layers after this gate.
        inputs.addAll(w.subList(i * slots, w.size()));
        If next = g.withName("if").ifOp(g.math.greater(g.size(staying, TInt32.class), none), inputs, levelTypes,
                levels[i + 1], passes[i + 1]);
        return new ArrayList<>(next.output());
    }

    /** Placeholders of a function's arguments. */
    private static final class Params {
        final Signature.Builder signature;
        final List<Operand<?>> all = new ArrayList<>();
        private int n;

        Params(String key) {
            signature = Signature.builder().key(key);
        }

        @SuppressWarnings("unchecked")
        <T extends TType> Operand<T> add(Ops tf, TfStage.Arg a) {
            String name = String.format(java.util.Locale.ROOT, "a%04d", n++);
            Operand<T> p = (Operand<T>) tf.withName(name).placeholder(a.type(), Placeholder.shape(a.shape()));
            signature.input(name, p);
            all.add(p);
            return p;
        }

        List<Operand<?>> addAll(Ops tf, List<TfStage.Arg> args) {
            List<Operand<?>> out = new ArrayList<>();
            for (TfStage.Arg a : args) {
                out.add(add(tf, a));
            }
            return out;
        }
    }

    /** The weights, with placeholders for layers {@code from..L} only (earlier slots stay null). */
    private List<Operand<?>> weights(Ops tf, Params p, int from) {
        List<Operand<?>> w = new ArrayList<>();
        List<TfStage.Arg> weights = stage.weightArgs();
        for (int k = 0; k < weights.size(); k++) {
            w.add(k < (from - 1) * slots ? null : p.add(tf, weights.get(k)));
        }
        return w;
    }

    private TfStage.Arg arg(Class<? extends TType> type, long... shape) {
        return new TfStage.Arg(type, Shape.of(shape));
    }

    /** Level {@code i}, or ({@code pass}) the branch that returns the state unchanged when no row reaches it. */
    private ConcreteFunction levelFunction(int i, boolean pass) {
        return ConcreteFunction.create(tf -> {
            Params p = new Params(stage.name + (pass ? "_pass_" : "_level_") + i);
            Operand<TFloat32> x = p.add(tf, arg(TFloat32.class, stage.xShape().asArray()));
            Operand<TFloat64> sims = p.add(tf, arg(TFloat64.class, -1, Math.max(0, stage.layers - 1)));
            Operand<TFloat32> out = p.add(tf, arg(TFloat32.class, stage.xShape().asArray()));
            Operand<TInt32> exitLayer = p.add(tf, arg(TInt32.class, -1));
            Operand<TFloat64> th = p.add(tf, arg(TFloat64.class));
            List<Operand<?>> ctx = p.addAll(tf, stage.ctxArgs());
            List<Operand<?>> cache = p.addAll(tf, stage.cacheArgs());
            List<Operand<?>> w = weights(tf, p, i);
            List<Operand<?>> result;
            if (pass) {
                result = new ArrayList<>(List.of(out, exitLayer, sims));
                result.addAll(cache);
            } else {
                result = level(tf, i, x, sims, out, exitLayer, th, ctx, cache, w);
            }
            return TfChain.outputs(tf, p.signature, result);
        });
    }

    /** The exit after layer {@code i} for the rows given, or ({@code keep}) the identity when no row exits. */
    private ConcreteFunction exitFunction(int i, boolean keep) {
        return ConcreteFunction.create(tf -> {
            Params p = new Params(stage.name + (keep ? "_keep_" : "_exit_") + i);
            Operand<TFloat32> y = p.add(tf, arg(TFloat32.class, stage.xShape().asArray()));
            Operand<TFloat32> out = p.add(tf, arg(TFloat32.class, stage.xShape().asArray()));
            Operand<TInt32> exitLayer = p.add(tf, arg(TInt32.class, -1));
            List<Operand<?>> ctx = p.addAll(tf, stage.ctxArgs());
            List<Operand<?>> cache = p.addAll(tf, stage.cacheArgs());
            List<Operand<?>> w = weights(tf, p, i + 1);
            List<Operand<?>> result;
            if (keep) {
                result = new ArrayList<>(List.of(out, exitLayer));
                result.addAll(cache);
            } else {
                result = new ArrayList<>(exitRows(tf, i, y, ctx, out, exitLayer));
                result.addAll(stage.exitFill(tf, i, y, ctx, cache, w));
            }
            return TfChain.outputs(tf, p.signature, result);
        });
    }

    @Override
    public void close() {
        for (ConcreteFunction f : functions()) {
            f.close();
        }
    }
}
