package dev.mue.backend.tf;

import dev.mue.api.GateRecord;
import dev.mue.api.plan.Stream;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.StepOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * Incremental decoding on the compiled graphs: each {@link #step} is one {@code Session.run} of the
 * {@code step_r<R>} entry, which takes every row's KV caches (per layer: keys, values, key mask) and
 * returns the updated ones. The host keeps those output tensors, unread, as the next step's inputs;
 * a beam reorder only reassigns them (rows sharing a parent share its tensors, counted by a
 * {@link TfLease}). The host's work per step is feeding tensors and the beam bookkeeping above this
 * interface.
 */
final class TfDecoderStepper implements DecoderStepper {
    private final TfExecutable exec;
    private final TfEncodedBatch enc;
    private final int layers;
    private final int horizon;
    private Row[] rows;
    private int step;
    private boolean closed;

    /** One row: its example, next position, caches (keys, values, masks per layer) and what keeps them alive. */
    private static final class Row {
        final int example;
        int pos;
        Tensor[] cache;
        TfLease lease;

        Row(int example, int pos, Tensor[] cache, TfLease lease) {
            this.example = example;
            this.pos = pos;
            this.cache = cache;
            this.lease = lease;
        }
    }

    TfDecoderStepper(TfExecutable exec, TfEncodedBatch enc, int[] exampleOfRow, int horizon) {
        this.exec = exec;
        this.enc = enc;
        this.horizon = horizon;
        enc.prepareCross(exampleOfRow);
        this.layers = exec.plan().config().decoderLayers();
        int p = exec.positions;
        int d = exec.plan().config().dModel();
        float[] minusInf = new float[p];
        Arrays.fill(minusInf, Float.NEGATIVE_INFINITY);
        TFloat32 zeros = TfTensors.floats(new float[p * d], p, d);
        TFloat32 mask = TfTensors.floats(minusInf, p);
        TfLease empty = new TfLease(() -> {
            zeros.close();
            mask.close();
        }, exampleOfRow.length);
        Tensor[] cache = new Tensor[3 * layers];
        for (int l = 0; l < layers; l++) {
            cache[l] = zeros;
            cache[layers + l] = zeros;
            cache[2 * layers + l] = mask;
        }
        rows = new Row[exampleOfRow.length];
        for (int r = 0; r < rows.length; r++) {
            rows[r] = new Row(exampleOfRow[r], 0, cache, empty);
        }
    }

    @Override
    public int rows() {
        return rows.length;
    }

    @Override
    public StepOutput step(int[] tokens) {
        check();
        int n = rows.length;
        int[] positions = new int[n];
        for (int r = 0; r < n; r++) {
            positions[r] = rows[r].pos;
        }
        double threshold = exec.decoderThreshold(step++, horizon);
        int vocab = exec.plan().config().vocabSize();
        if (n == 0) {
            return new StepOutput(new float[0][], new int[0], List.of());
        }
        TfExecutable.StepEntry entry = exec.stepEntry(n);
        List<List<Tensor>> cross = new ArrayList<>();
        for (Row row : rows) {
            cross.add(enc.cross(row.example));
        }
        Result result;
        try (Tensor tok = TfTensors.ints(tokens); Tensor pos = TfTensors.ints(positions);
                Tensor th = TFloat64.scalarOf(threshold)) {
            result = exec.run("decoding step of " + n + " rows", () -> {
                Session.Runner run = exec.session().runner().feed(entry.tokens, tok).feed(entry.positions, pos)
                        .feed(entry.threshold, th);
                for (int r = 0; r < n; r++) {
                    List<Operand<?>> in = entry.rowInputs.get(r);
                    Tensor[] cache = rows[r].cache;
                    for (int k = 0; k < cache.length; k++) {
                        run.feed(in.get(k), cache[k]);
                    }
                    List<Tensor> kv = cross.get(r);
                    for (int k = 0; k < kv.size(); k++) {
                        run.feed(in.get(cache.length + k), kv.get(k));
                    }
                }
                run.fetch(entry.logits).fetch(entry.exits).fetch(entry.sims);
                for (List<Operand<?>> out : entry.rowCaches) {
                    out.forEach(run::fetch);
                }
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
        TfLease lease = new TfLease(result, n);
        int k = 3;
        for (Row row : rows) {
            Tensor[] cache = new Tensor[3 * layers];
            for (int j = 0; j < cache.length; j++) {
                cache[j] = result.get(k++);
            }
            row.lease.release();
            row.lease = lease;
            row.cache = cache;
            row.pos++;
        }
        return new StepOutput(logits, exitLayer, gates);
    }

    @Override
    public void reorder(int[] parents) {
        check();
        for (int p : parents) {
            if (p < 0 || p >= rows.length) {
                throw new dev.mue.api.InvalidInputException("reorder parent " + p + " outside 0.." + (rows.length - 1));
            }
        }
        Row[] next = new Row[parents.length];
        for (int r = 0; r < parents.length; r++) {
            Row p = rows[parents[r]];
            p.lease.retain();
            next[r] = new Row(p.example, p.pos, p.cache, p.lease);
        }
        for (Row row : rows) {
            row.lease.release();
        }
        rows = next;
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
        for (Row row : rows) {
            row.lease.release();
        }
        rows = new Row[0];
    }
}
