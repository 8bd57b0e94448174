package dev.mue.backend.tf;

import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.plan.Stream;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.StepOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat64;

/**
 * Incremental decoding on the compiled graphs: each {@link #step} is one {@code Session.run} of the
 * {@code step_r<R>} entry, one batched chain over the R rows ({@link TfRowChain}) that takes the
 * rows' KV caches stacked (per layer: keys {@code [R, P, d]}, values, key mask {@code [R, P]}) and
 * returns the updated ones. The host keeps the last step's result, unread, as the next step's
 * caches, and per row only integers: its example's slot in the stacked cross keys, its next
 * position and its row in those caches. A beam reorder composes that last index with the parents,
 * and the next step gathers the caches by it in the graph.
 */
final class TfDecoderStepper implements DecoderStepper {
    private final TfExecutable exec;
    private final TfEncodedBatch enc;
    private final int layers;
    private final int horizon;
    /** The stacked cross keys and values of the run's examples (owned by the encoded batch). */
    private final List<Tensor> cross;
    /** Whether every row decodes one example (a beam): the step shares its cross keys without gathering. */
    private final boolean oneExample;
    /** The empty caches: keys and values {@code [1, P, d]} of zeros, mask {@code [1, P]} of -inf. */
    private final Tensor emptyKv;
    private final Tensor emptyMask;
    /** Per row: its example's slot in {@link #cross}, its next position, its row in the caches fed next. */
    private int[] slot;
    private int[] pos;
    private int[] order;
    /** The last step's result, whose caches the next step takes; null before the first step. */
    private Result last;
    private int step;
    private boolean closed;

    TfDecoderStepper(TfExecutable exec, TfEncodedBatch enc, int[] exampleOfRow, int horizon) {
        this.exec = exec;
        this.enc = enc;
        this.horizon = horizon;
        this.layers = exec.plan().config().decoderLayers();
        int[] examples = Arrays.stream(exampleOfRow).distinct().sorted().toArray();
        this.cross = enc.crossStack(examples);
        this.oneExample = examples.length <= 1;
        int n = exampleOfRow.length;
        slot = new int[n];
        for (int r = 0; r < n; r++) {
            slot[r] = Arrays.binarySearch(examples, exampleOfRow[r]);
        }
        pos = new int[n];
        order = new int[n];
        int p = exec.positions;
        int d = exec.plan().config().dModel();
        float[] minusInf = new float[p];
        Arrays.fill(minusInf, Float.NEGATIVE_INFINITY);
        emptyKv = TfTensors.floats(new float[p * d], 1, p, d);
        try {
            emptyMask = TfTensors.floats(minusInf, 1, p);
        } catch (RuntimeException e) {
            emptyKv.close();
            throw e;
        }
    }

    @Override
    public int rows() {
        return order.length;
    }

    @Override
    public StepOutput step(int[] tokens) {
        check();
        int n = order.length;
        double threshold = exec.decoderThreshold(step++, horizon);
        int vocab = exec.plan().config().vocabSize();
        if (n == 0) {
            return new StepOutput(new float[0][], new int[0], List.of());
        }
        TfExecutable.StepEntry entry = exec.stepEntry(n, oneExample);
        int caches = 3 * layers;
        Result result;
        try (Tensor tok = TfTensors.ints(tokens); Tensor positions = TfTensors.ints(pos);
                Tensor th = TFloat64.scalarOf(threshold); Tensor rows = TfTensors.ints(order);
                Tensor slots = TfTensors.ints(slot)) {
            result = exec.run("decoding step of " + n + " rows", () -> {
                Session.Runner run = exec.session().runner().feed(entry.tokens, tok).feed(entry.positions, positions)
                        .feed(entry.threshold, th).feed(entry.order, rows).feed(entry.slot, slots);
                for (int k = 0; k < caches; k++) {
                    run.feed(entry.inputs.get(k), last != null ? last.get(3 + k) : k < 2 * layers ? emptyKv : emptyMask);
                }
                for (int k = 0; k < cross.size(); k++) {
                    run.feed(entry.inputs.get(caches + k), cross.get(k));
                }
                run.fetch(entry.logits).fetch(entry.exits).fetch(entry.sims);
                entry.caches.forEach(run::fetch);
                return run;
            });
        }
        float[][] logits = new float[n][];
        int[] exitLayer;
        List<List<GateRecord>> gates = new ArrayList<>();
        try {
            float[] all = TfTensors.floats(result.get(0));
            for (int r = 0; r < n; r++) {
                logits[r] = Arrays.copyOfRange(all, r * vocab, (r + 1) * vocab);
            }
            exitLayer = TfTensors.ints(result.get(1));
            double[] sims = TfTensors.doubles(result.get(2));
            int g = Math.max(0, layers - 1);
            for (int r = 0; r < n; r++) {
                gates.add(TfPacking.gates(Stream.DECODER, exitLayer[r], Arrays.copyOfRange(sims, r * g, (r + 1) * g),
                        layers, threshold));
            }
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
        if (last != null) {
            last.close();
        }
        last = result;
        for (int r = 0; r < n; r++) {
            order[r] = r;
            pos[r]++;
        }
        return new StepOutput(logits, exitLayer, gates);
    }

    @Override
    public void reorder(int[] parents) {
        check();
        for (int p : parents) {
            if (p < 0 || p >= order.length) {
                throw new InvalidInputException("reorder parent " + p + " outside 0.." + (order.length - 1));
            }
        }
        int[] nextSlot = new int[parents.length];
        int[] nextPos = new int[parents.length];
        int[] nextOrder = new int[parents.length];
        for (int r = 0; r < parents.length; r++) {
            nextSlot[r] = slot[parents[r]];
            nextPos[r] = pos[parents[r]];
            nextOrder[r] = order[parents[r]];
        }
        slot = nextSlot;
        pos = nextPos;
        order = nextOrder;
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("decoder stepper is closed");
        }
        exec.checkOpen();
        enc.check();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Tensor kv = emptyKv; Tensor mask = emptyMask) {
            if (last != null) {
                last.close();
            }
        }
        last = null;
        order = new int[0];
    }
}
