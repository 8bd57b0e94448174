package dev.mue.backend.java;

import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.GateRecord;
import dev.mue.api.plan.Stream;
import dev.mue.api.spi.RequestChecks;
import dev.mue.api.spi.ScoringOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One non-incremental, causal decoder pass over whole sequences, as visual-entailment scoring
 * runs it: one exit decision per example, over all its rows and positions, at a fixed threshold.
 */
final class JvScorer {
    private final JvExecutable exec;
    private final JvEncodedBatch enc;
    private final JvParams p;
    private final JvOps ops;
    private final int d;

    JvScorer(JvExecutable exec, JvEncodedBatch enc) {
        this.exec = exec;
        this.enc = enc;
        this.p = exec.params();
        this.ops = exec.ops();
        this.d = p.config.dModel();
    }

    ScoringOutput score(int[] exampleOfRow, int[][] sequences, int[] firstScored, double threshold) {
        RequestChecks.scoring(exec.plan(), enc.size(), exampleOfRow, sequences, firstScored);
        int n = exampleOfRow.length;
        // Rows grouped by example (stable), so each example's positions are one contiguous range.
        Integer[] order = new Integer[n];
        for (int r = 0; r < n; r++) {
            order[r] = r;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(exampleOfRow[a], exampleOfRow[b]));
        List<Integer> examples = new ArrayList<>();
        List<int[]> rowsOf = new ArrayList<>();
        for (int i = 0; i < n;) {
            int e = exampleOfRow[order[i]];
            int j = i;
            while (j < n && exampleOfRow[order[j]] == e) {
                j++;
            }
            int[] rs = new int[j - i];
            for (int t = i; t < j; t++) {
                rs[t - i] = order[t];
            }
            examples.add(e);
            rowsOf.add(rs);
            i = j;
        }
        float[][] hidden = new float[n][];
        int[] exitLayer = new int[enc.size()];
        List<List<GateRecord>> gates = new ArrayList<>();
        for (int e = 0; e < enc.size(); e++) {
            gates.add(new ArrayList<>());
        }
        int layers = p.config.decoderLayers();
        int[] active = new int[examples.size()];
        for (int i = 0; i < active.length; i++) {
            active[i] = i;
        }
        float[] cur = embed(active, rowsOf, sequences);
        for (int l = 0; l < layers && active.length > 0; l++) {
            float[] out = layer(l, cur, active, examples, rowsOf, sequences);
            List<Integer> keep = new ArrayList<>();
            int t0 = 0;
            for (int ai : active) {
                int tokens = 0;
                for (int r : rowsOf.get(ai)) {
                    tokens += sequences[r].length;
                }
                int e = examples.get(ai);
                boolean exit = l == layers - 1;
                if (!exit) {
                    double sim = ops.k.cosine(out, t0 * d, cur, t0 * d, tokens * d);
                    exit = exec.decoderGateEnabled(l) && sim > threshold;
                    gates.get(e).add(new GateRecord(Stream.DECODER, l + 1, sim, threshold, exit));
                }
                if (exit) {
                    int o = t0;
                    for (int r : rowsOf.get(ai)) {
                        hidden[r] = Arrays.copyOfRange(out, o * d, (o + sequences[r].length) * d);
                        o += sequences[r].length;
                    }
                    exitLayer[e] = l + 1;
                } else {
                    keep.add(ai);
                }
                t0 += tokens;
            }
            if (keep.size() < active.length) {
                int[] next = keep.stream().mapToInt(Integer::intValue).toArray();
                cur = repack(out, active, next, rowsOf, sequences);
                active = next;
            } else {
                cur = out;
            }
        }
        float[][][] logits = new float[n][][];
        int vocab = p.config.vocabSize();
        for (int r = 0; r < n; r++) {
            int from = firstScored[r];
            int count = sequences[r].length - from;
            float[] lg = exec.logits(Arrays.copyOfRange(hidden[r], from * d, sequences[r].length * d), count);
            logits[r] = new float[count][];
            for (int t = 0; t < count; t++) {
                logits[r][t] = Arrays.copyOfRange(lg, t * vocab, (t + 1) * vocab);
            }
        }
        return new ScoringOutput(logits, exitLayer, gates);
    }

    private float[] embed(int[] active, List<int[]> rowsOf, int[][] sequences) {
        List<float[]> parts = new ArrayList<>();
        int total = 0;
        for (int ai : active) {
            for (int r : rowsOf.get(ai)) {
                float[] x = exec.embedDecoder(sequences[r]);
                parts.add(x);
                total += x.length;
            }
        }
        float[] out = new float[total];
        int o = 0;
        for (float[] x : parts) {
            System.arraycopy(x, 0, out, o, x.length);
            o += x.length;
        }
        return out;
    }

    private float[] repack(float[] x, int[] active, int[] keep, List<int[]> rowsOf, int[][] sequences) {
        int[] start = new int[rowsOf.size()];
        int[] size = new int[rowsOf.size()];
        int t = 0;
        for (int ai : active) {
            start[ai] = t;
            for (int r : rowsOf.get(ai)) {
                size[ai] += sequences[r].length;
            }
            t += size[ai];
        }
        int total = 0;
        for (int ai : keep) {
            total += size[ai];
        }
        float[] out = new float[total * d];
        int o = 0;
        for (int ai : keep) {
            System.arraycopy(x, start[ai] * d, out, o, size[ai] * d);
            o += size[ai] * d;
        }
        return out;
    }

    private float[] layer(int l, float[] x, int[] active, List<Integer> examples, List<int[]> rowsOf, int[][] sequences) {
        ResolvedWeights.Layer layer = p.decoder[l];
        List<int[]> segs = new ArrayList<>();
        int rowsTotal = 0;
        for (int ai : active) {
            for (int r : rowsOf.get(ai)) {
                segs.add(new int[] {rowsTotal, sequences[r].length, examples.get(ai)});
                rowsTotal += sequences[r].length;
            }
        }
        int[] off = segs.stream().mapToInt(s -> s[0]).toArray();
        int[] len = segs.stream().mapToInt(s -> s[1]).toArray();
        float[] h = ops.layerNorm(layer.selfLn(), x, rowsTotal, d);
        float[] q = ops.linear(layer.self().q(), h, rowsTotal);
        ops.scaleQueries(q);
        float[] kk = ops.linear(layer.self().k(), h, rowsTotal);
        float[] v = ops.linear(layer.self().v(), h, rowsTotal);
        int td = exec.decoderSelfBlock.rows();
        float[] attn = ops.segmentSelfAttention(q, kk, v, off, len, exec.decoderSelfBias[l], td, td, true);
        float[] out = x.clone();
        ops.attentionOutput(layer.self(), layer.selfPostLn(), attn, out, rowsTotal);
        float[] h2 = ops.layerNorm(layer.crossLn(), out, rowsTotal, d);
        float[] q2 = ops.linear(layer.cross().q(), h2, rowsTotal);
        ops.scaleQueries(q2);
        float[] attn2 = new float[rowsTotal * d];
        for (int[] s : segs) {
            exec.crossAttention(enc, l, layer.cross(), q2, s[0], s[1], 0, s[2], attn2);
        }
        ops.attentionOutput(layer.cross(), layer.crossPostLn(), attn2, out, rowsTotal);
        ops.ffnBlock(layer, out, rowsTotal);
        return out;
    }
}
