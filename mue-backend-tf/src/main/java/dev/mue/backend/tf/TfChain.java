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
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * A {@link TfStage} compiled into TF functions whose exit gates are {@code If} ops, one decision
 * for the whole hidden state: the encoder streams and the scoring pass (one decision per example).
 * A decoding step's rows, each deciding its own exits, use {@link TfRowChain}.
 *
 * <p>Layer 1 and its gate are built inline wherever the chain is used ({@link #build}); every
 * enabled gate after layer {@code i} is an {@code If} whose {@code then} branch is
 * {@code <stage>_exit_<i>} (the exit: pass the hidden state through, record the exit layer, and fill
 * the skipped layers' caches per the KV policy) and whose {@code else} branch is
 * {@code <stage>_level_<i+1>} (layer {@code i+1}, its gate, and so on). A gate below the policy's
 * minimum layer is no branch: its similarity is still computed and recorded, and the next layer
 * follows inline. Skipped layers are therefore never executed: their ops live only in the branch
 * function not taken.
 *
 * <p>Both branches of the gate after layer {@code i} take {@code (x, sims, threshold, context...,
 * caches..., weights of layers i+1..L)} and return {@code (x, exitLayer, sims, caches...)}, where
 * {@code sims} is the float64 vector of the gates' similarities ({@code [L-1]}; entries past the
 * exit stay 0). The similarity is the cosine of the flattened layer output and input, computed in
 * float64 inside the graph; the comparison with the fed threshold is the {@code If}'s condition.
 */
final class TfChain implements AutoCloseable {
    private final TfStage stage;
    private final ConcreteFunction[] levels;
    private final ConcreteFunction[] exits;
    private final List<Class<? extends TType>> outTypes;
    /** Weight slots per layer. */
    private final int slots;

    TfChain(TfStage stage) {
        this.stage = stage;
        int layers = stage.layers;
        this.slots = stage.weightArgs().size() / layers;
        levels = new ConcreteFunction[layers + 1];
        exits = new ConcreteFunction[layers + 1];
        List<Class<? extends TType>> types = new ArrayList<>(List.of(TFloat32.class, TInt32.class, TFloat64.class));
        for (TfStage.Arg a : stage.cacheArgs()) {
            types.add(a.type());
        }
        outTypes = List.copyOf(types);
        for (int i = layers; i >= 2; i--) {
            if (stage.gateEnabled(i - 1)) {
                exits[i - 1] = exitFunction(i - 1);
                levels[i] = levelFunction(i);
            }
        }
    }

    /** The functions compiled (levels and exits), for descriptions. */
    List<ConcreteFunction> functions() {
        List<ConcreteFunction> out = new ArrayList<>();
        for (int i = 1; i <= stage.layers; i++) {
            if (exits[i] != null) {
                out.add(exits[i]);
            }
            if (levels[i] != null) {
                out.add(levels[i]);
            }
        }
        return out;
    }

    /** The stage. */
    TfStage stage() {
        return stage;
    }

    /** Output of a chain: the final hidden state, the exit layer, the similarities and the caches. */
    record Out(Operand<TFloat32> x, Operand<TInt32> exitLayer, Operand<TFloat64> sims, List<Operand<?>> cache) {
    }

    /** Builds the chain from layer 1 inline in {@code tf}'s graph. */
    Out build(Ops tf, Operand<TFloat32> x, Operand<TFloat64> threshold, List<Operand<?>> ctx, List<Operand<?>> cache,
            List<Operand<?>> w) {
        Operand<TFloat64> sims = tf.zeros(tf.constant(new int[] {Math.max(0, stage.layers - 1)}), TFloat64.class);
        return out(level(tf, 1, x, sims, threshold, ctx, cache, w));
    }

    @SuppressWarnings("unchecked")
    private Out out(List<Operand<?>> o) {
        return new Out((Operand<TFloat32>) o.get(0), (Operand<TInt32>) o.get(1), (Operand<TFloat64>) o.get(2),
                List.copyOf(o.subList(3, o.size())));
    }

    private List<Operand<?>> level(Ops tf, int i, Operand<TFloat32> x, Operand<TFloat64> sims,
            Operand<TFloat64> threshold, List<Operand<?>> ctx, List<Operand<?>> cache, List<Operand<?>> w) {
        Ops s = tf.withSubScope(stage.name + "_L" + i);
        TfStage.Step step = stage.layer(s, i, x, ctx, cache, w);
        if (i == stage.layers) {
            List<Operand<?>> out = new ArrayList<>(List.of(step.y(), s.constant(i), sims));
            out.addAll(step.cache());
            return out;
        }
        Ops g = tf.withSubScope(stage.name + "_gate_L" + i);
        Operand<TFloat64> sim = TfLayers.cosine(g, step.y(), x);
        Operand<TFloat64> recorded = g.tensorScatterNdUpdate(sims, g.constant(new int[][] {{i - 1}}),
                g.reshape(sim, g.constant(new int[] {1})));
        if (!stage.gateEnabled(i)) {
            return level(tf, i + 1, step.y(), recorded, threshold, ctx, step.cache(), w);
        }
        List<Operand<?>> inputs = new ArrayList<>(List.of(step.y(), recorded, threshold));
        inputs.addAll(ctx);
        inputs.addAll(step.cache());
        // Both branches need only the layers after this gate: the exit fills their caches, the
        // next level runs them.
        inputs.addAll(w.subList(i * slots, w.size()));
        If gate = g.withName("if").ifOp(TfLayers.exits(g, sim, threshold), inputs, outTypes, exits[i], levels[i + 1]);
        return new ArrayList<>(gate.output());
    }

    /** Placeholders of a function's arguments, in order. */
    private record Params(Operand<TFloat32> x, Operand<TFloat64> sims, Operand<TFloat64> threshold,
            List<Operand<?>> ctx, List<Operand<?>> cache, List<Operand<?>> w, Signature.Builder signature) {
    }

    /** Placeholders of a function taking the weights of layers {@code from..L} (earlier slots stay null). */
    private Params params(Ops tf, String key, int from) {
        Signature.Builder sig = Signature.builder().key(key);
        int[] n = {0};
        Operand<TFloat32> x = arg(tf, sig, n, new TfStage.Arg(TFloat32.class, stage.xShape()));
        Operand<TFloat64> sims = arg(tf, sig, n, new TfStage.Arg(TFloat64.class, Shape.of(Math.max(0, stage.layers - 1))));
        Operand<TFloat64> th = arg(tf, sig, n, new TfStage.Arg(TFloat64.class, Shape.scalar()));
        List<Operand<?>> ctx = new ArrayList<>();
        for (TfStage.Arg a : stage.ctxArgs()) {
            ctx.add(arg(tf, sig, n, a));
        }
        List<Operand<?>> cache = new ArrayList<>();
        for (TfStage.Arg a : stage.cacheArgs()) {
            cache.add(arg(tf, sig, n, a));
        }
        List<Operand<?>> w = new ArrayList<>();
        List<TfStage.Arg> weights = stage.weightArgs();
        for (int k = 0; k < weights.size(); k++) {
            w.add(k < (from - 1) * slots ? null : arg(tf, sig, n, weights.get(k)));
        }
        return new Params(x, sims, th, ctx, cache, w, sig);
    }

    @SuppressWarnings("unchecked")
    private static <T extends TType> Operand<T> arg(Ops tf, Signature.Builder sig, int[] n, TfStage.Arg a) {
        String name = String.format(java.util.Locale.ROOT, "a%04d", n[0]++);
        Operand<T> p = (Operand<T>) tf.withName(name).placeholder(a.type(), Placeholder.shape(a.shape()));
        sig.input(name, p);
        return p;
    }

    /** The function's outputs {@code outs}, named {@code o0000, o0001, ...} in order, into its signature. */
    static Signature outputs(Ops tf, Signature.Builder sig, List<Operand<?>> outs) {
        for (int i = 0; i < outs.size(); i++) {
            String name = String.format(java.util.Locale.ROOT, "o%04d", i);
            sig.output(name, tf.withName(name).identity(outs.get(i)));
        }
        return sig.build();
    }

    private ConcreteFunction levelFunction(int i) {
        return ConcreteFunction.create(tf -> {
            Params p = params(tf, stage.name + "_level_" + i, i);
            return outputs(tf, p.signature(), level(tf, i, p.x(), p.sims(), p.threshold(), p.ctx(), p.cache(), p.w()));
        });
    }

    private ConcreteFunction exitFunction(int i) {
        return ConcreteFunction.create(tf -> {
            Params p = params(tf, stage.name + "_exit_" + i, i + 1);
            List<Operand<?>> outs = new ArrayList<>(List.of(p.x(), tf.constant(i), p.sims()));
            outs.addAll(stage.exitFill(tf, i, p.x(), p.ctx(), p.cache(), p.w()));
            return outputs(tf, p.signature(), outs);
        });
    }

    @Override
    public void close() {
        for (ConcreteFunction f : functions()) {
            f.close();
        }
    }
}
