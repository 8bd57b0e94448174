package dev.mue.backend.tf;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The per-call context of each stage (the folded biases cut to the call's sizes, the decoder's
 * position), built from run-time inputs by the same ops in graph and eager mode.
 */
final class TfContext {
    private TfContext() {
    }

    /** Per layer, {@code table[:, :rows, :cols]}; layers sharing a table share the slice. */
    static List<Operand<?>> biasSlices(Ops t, int heads, List<Operand<TFloat32>> tables, Operand<TInt32> rows,
            Operand<TInt32> cols) {
        Operand<TInt32> size = t.concat(List.of(t.constant(new int[] {heads}), rows, cols), t.constant(0));
        Operand<TInt32> begin = t.constant(new int[] {0, 0, 0});
        Map<Operand<TFloat32>, Operand<?>> made = new IdentityHashMap<>();
        List<Operand<?>> out = new ArrayList<>();
        for (Operand<TFloat32> table : tables) {
            out.add(made.computeIfAbsent(table, k -> t.slice(k, begin, size)));
        }
        return out;
    }

    /** The length of a {@code [n, d]} tensor's first axis as a one-element vector. */
    static Operand<TInt32> rowsOf(Ops t, Operand<TFloat32> x) {
        return t.slice(t.shape(x), t.constant(new int[] {0}), t.constant(new int[] {1}));
    }

    /**
     * The context of a decoding step's rows (the layout {@link TfStage.Decoder} reads): the rows'
     * cache indices {@code rows} and positions {@code pos} ({@code [n]}), per layer the
     * self-attention bias rows {@code [n, H, 1, P]}, the cross keys and values as given
     * ({@code [E, M, d]}, layers 1..L then 1..L), each row's example slot {@code slot} among them
     * ({@code [n]}), and the cross bias rows {@code [n, H, 1, M]}: the position bias plus the row's
     * example's key mask {@code crossMask} ({@code [E, M]}, -inf over padding).
     */
    static List<Operand<?>> decoderRows(Ops e, TfModel model, int heads, int positions, Operand<TInt32> rows,
            Operand<TInt32> pos, List<Operand<?>> crossKv, Operand<TInt32> slot, Operand<TFloat32> crossMask) {
        List<Operand<?>> ctx = new ArrayList<>();
        ctx.add(rows);
        ctx.add(pos);
        Operand<TInt32> byRow = e.constant(new int[] {1, 0, 2});
        Map<Operand<TFloat32>, Operand<?>> made = new IdentityHashMap<>();
        for (Operand<TFloat32> table : model.decoderSelfBias()) {
            ctx.add(made.computeIfAbsent(table, k -> e.reshape(e.linalg.transpose(e.gather(k, pos, e.constant(1)), byRow),
                    e.constant(new int[] {-1, heads, 1, positions}))));
        }
        ctx.addAll(crossKv);
        ctx.add(slot);
        Operand<TInt32> keys = e.slice(e.shape(crossMask), e.constant(new int[] {1}), e.constant(new int[] {1}));
        Operand<TFloat32> crossRows = e.slice(e.gather(model.crossBias(), pos, e.constant(1)),
                e.constant(new int[] {0, 0, 0}), e.concat(List.of(e.constant(new int[] {heads, -1}), keys),
                        e.constant(0)));
        Operand<TFloat32> masked = e.math.add(e.linalg.transpose(crossRows, byRow),
                e.expandDims(e.gather(crossMask, slot, e.constant(0)), e.constant(1)));
        ctx.add(e.expandDims(masked, e.constant(2)));
        return ctx;
    }

    /**
     * The context of one example's scoring pass over its packed rows: per layer the self-attention
     * bias {@code [H, N, N]} (each token sees the earlier tokens of its own row, at their positions),
     * the example's encoder output {@code [M, d]}, every layer's cross key and value projections, and
     * the cross bias {@code [H, N, M]}.
     */
    static List<Operand<?>> scorer(Ops e, TfModel model, int heads, Operand<TInt32> pos, Operand<TInt32> seg,
            Operand<TFloat32> encoded) {
        Operand<TInt32> col = e.constant(new int[] {-1, 1});
        Operand<TInt32> row = e.constant(new int[] {1, -1});
        Operand<TBool> allowed = e.math.logicalAnd(e.math.equal(e.reshape(seg, col), e.reshape(seg, row)),
                e.math.lessEqual(e.reshape(pos, row), e.reshape(pos, col)));
        Operand<TFloat32> mask = e.select(allowed, e.constant(0f), e.constant(Float.NEGATIVE_INFINITY));
        List<Operand<?>> ctx = new ArrayList<>();
        Map<Operand<TFloat32>, Operand<?>> made = new IdentityHashMap<>();
        for (Operand<TFloat32> table : model.decoderSelfBias()) {
            ctx.add(made.computeIfAbsent(table, k -> e.math.add(
                    e.gather(e.gather(k, pos, e.constant(1)), pos, e.constant(2)), mask)));
        }
        ctx.add(encoded);
        for (int l = 0; l < model.host.cross.size(); l++) {
            ctx.addAll(model.cross(l));
        }
        ctx.add(e.slice(e.gather(model.crossBias(), pos, e.constant(1)), e.constant(new int[] {0, 0, 0}),
                e.concat(List.of(e.constant(new int[] {heads, -1}), rowsOf(e, encoded)), e.constant(0))));
        return ctx;
    }

    /** An example's cross keys (layers 1..L) then values (layers 1..L) from its encoder output {@code [N, d]}. */
    static List<Operand<TFloat32>> crossKv(Ops t, TfModel model, Operand<TFloat32> encoded) {
        List<Operand<TFloat32>> ks = new ArrayList<>();
        List<Operand<TFloat32>> vs = new ArrayList<>();
        for (int l = 0; l < model.host.cross.size(); l++) {
            List<Operand<TFloat32>> w = model.cross(l);
            Ops s = t;
            ks.add(TfLayers.linear(s, encoded, w.get(0), w.get(1)));
            vs.add(TfLayers.linear(s, encoded, w.get(2), w.get(3)));
        }
        List<Operand<TFloat32>> out = new ArrayList<>(ks);
        out.addAll(vs);
        return out;
    }
}
