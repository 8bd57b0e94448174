package dev.mue.backend.torch;

import dev.mue.backend.torch.forward.PtOps;
import dev.mue.backend.torch.forward.PtParams;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mue.api.GateRecord;
import dev.mue.api.plan.Stream;
import dev.mue.api.spi.RequestChecks;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.api.text.Vocabulary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One non-incremental, causal decoder pass over whole sequences, as visual-entailment scoring runs
 * it: one exit decision per example, over all its rows and positions, at a fixed threshold. Rows
 * are padded to the longest sequence; an example's similarity is taken over its rows' real
 * positions only, in the Java backend's order (rows by index, positions in order).
 */
final class PtScorer {
    private final PtExecutable exec;
    private final PtEncodedBatch enc;
    private final PtParams p;
    private final PtOps ops;
    private final int d;

    PtScorer(PtExecutable exec, PtEncodedBatch enc) {
        this.exec = exec;
        this.enc = enc;
        this.p = exec.p;
        this.ops = exec.ops;
        this.d = exec.d;
    }

    ScoringOutput score(int[] exampleOfRow, int[][] sequences, int[] firstScored, double threshold) {
        RequestChecks.scoring(exec.plan(), enc.size(), exampleOfRow, sequences, firstScored);
        int n = exampleOfRow.length;
        int width = 0;
        for (int[] seq : sequences) {
            width = Math.max(width, seq.length);
        }
        // Rows grouped by example (stable), so each example's rows are one contiguous range.
        Integer[] order = new Integer[n];
        for (int r = 0; r < n; r++) {
            order[r] = r;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(exampleOfRow[a], exampleOfRow[b]));
        List<Integer> examples = new ArrayList<>();
        List<int[]> slotsOf = new ArrayList<>();
        for (int i = 0; i < n;) {
            int e = exampleOfRow[order[i]];
            int j = i;
            while (j < n && exampleOfRow[order[j]] == e) {
                j++;
            }
            int[] slots = new int[j - i];
            for (int t = i; t < j; t++) {
                slots[t - i] = t;
            }
            examples.add(e);
            slotsOf.add(slots);
            i = j;
        }
        int[] rowOfSlot = new int[n];
        int[] lenOfSlot = new int[n];
        long[] ids = new long[n * width];
        Arrays.fill(ids, Vocabulary.PAD);
        for (int s = 0; s < n; s++) {
            int r = order[s];
            rowOfSlot[s] = r;
            lenOfSlot[s] = sequences[r].length;
            for (int t = 0; t < sequences[r].length; t++) {
                ids[s * width + t] = sequences[r][t];
            }
        }
        int[] exitLayer = new int[enc.size()];
        List<List<GateRecord>> gates = new ArrayList<>();
        for (int e = 0; e < enc.size(); e++) {
            gates.add(new ArrayList<>());
        }
        int layers = p.config.decoderLayers();
        int plane = width * d;
        try (NDManager tmp = exec.weights().newSubManager()) {
            NDArray cur = exec.embedDecoder(tmp, ids).reshape(n, width, d);
            float[] curHost = cur.toFloatArray();
            NDArray[] hidden = new NDArray[n];
            // Active examples (indices into `examples`) and their slots in the current batch.
            int[] active = new int[examples.size()];
            for (int i = 0; i < active.length; i++) {
                active[i] = i;
            }
            int[] slots = allSlots(active, slotsOf);
            long crossWidth = enc.width();
            for (int l = 0; l < layers && active.length > 0; l++) {
                PtParams.Layer layer = p.decoder[l];
                NDArray bias = p.decoderSelfBias[l].get(tmp, new NDIndex(":, :{}, :{}", width, width)).expandDims(0);
                NDArray[] qkv = ops.selfQkv(layer, cur);
                NDArray attn = ops.attention(qkv[0], qkv[1], qkv[2], bias, causalMask(tmp, slots, lenOfSlot, width),
                        layer.self().cAttn());
                NDArray y = ops.attentionOutput(layer.self(), layer.selfPostLn(), attn, cur);
                int[] exampleOfSlot = new int[slots.length];
                for (int i = 0; i < slots.length; i++) {
                    exampleOfSlot[i] = exampleOfRow[rowOfSlot[slots[i]]];
                }
                NDArray[] cross = enc.crossFor(tmp, l, exampleOfSlot);
                NDArray crossBias = p.crossBias.get(tmp, new NDIndex(":, :{}, :{}", width, crossWidth)).expandDims(0);
                NDArray out = ops.crossAndFfn(layer, y, cross[0], cross[1], crossBias, cross[2]);
                float[] outHost = out.toFloatArray();
                List<Integer> keep = new ArrayList<>();
                int b = 0;
                for (int ai : active) {
                    int[] own = slotsOf.get(ai);
                    int[] off = new int[own.length];
                    int[] len = new int[own.length];
                    for (int i = 0; i < own.length; i++) {
                        off[i] = (b + i) * plane;
                        len[i] = lenOfSlot[own[i]] * d;
                    }
                    int e = examples.get(ai);
                    boolean exit = l == layers - 1;
                    if (!exit) {
                        double sim = PtHost.cosine(outHost, curHost, off, len);
                        exit = exec.decoderGateEnabled(l) && sim > threshold;
                        gates.get(e).add(new GateRecord(Stream.DECODER, l + 1, sim, threshold, exit));
                    }
                    if (exit) {
                        for (int i = 0; i < own.length; i++) {
                            hidden[own[i]] = out.get(b + i);
                        }
                        exitLayer[e] = l + 1;
                    } else {
                        keep.add(ai);
                    }
                    b += own.length;
                }
                if (keep.size() < active.length) {
                    int[] next = keep.stream().mapToInt(Integer::intValue).toArray();
                    int[] positions = new int[n];
                    for (int i = 0; i < slots.length; i++) {
                        positions[slots[i]] = i;
                    }
                    int[] nextSlots = allSlots(next, slotsOf);
                    int[] pick = new int[nextSlots.length];
                    for (int i = 0; i < pick.length; i++) {
                        pick[i] = positions[nextSlots[i]];
                    }
                    if (pick.length > 0) {
                        cur = PtHost.rows(tmp, out, pick);
                        curHost = PtHost.rows(outHost, plane, pick);
                    }
                    active = next;
                    slots = nextSlots;
                } else {
                    cur = out;
                    curHost = outHost;
                }
            }
            NDList scored = new NDList();
            int[] count = new int[n];
            for (int s = 0; s < n; s++) {
                int r = rowOfSlot[s];
                count[r] = sequences[r].length - firstScored[r];
            }
            int[] slotOfRow = new int[n];
            for (int s = 0; s < n; s++) {
                slotOfRow[rowOfSlot[s]] = s;
            }
            for (int r = 0; r < n; r++) {
                scored.add(hidden[slotOfRow[r]].get(tmp,
                        new NDIndex("{}:{}", firstScored[r], sequences[r].length)));
            }
            float[] lg = exec.logits(NDArrays.concat(scored)).toFloatArray();
            int vocab = p.config.vocabSize();
            float[][][] logits = new float[n][][];
            int at = 0;
            for (int r = 0; r < n; r++) {
                logits[r] = new float[count[r]][];
                for (int t = 0; t < count[r]; t++) {
                    logits[r][t] = Arrays.copyOfRange(lg, at * vocab, (at + 1) * vocab);
                    at++;
                }
            }
            return new ScoringOutput(logits, exitLayer, gates);
        }
    }

    private static int[] allSlots(int[] active, List<int[]> slotsOf) {
        int total = 0;
        for (int ai : active) {
            total += slotsOf.get(ai).length;
        }
        int[] out = new int[total];
        int o = 0;
        for (int ai : active) {
            for (int s : slotsOf.get(ai)) {
                out[o++] = s;
            }
        }
        return out;
    }

    /** Causal plus key-padding mask {@code [slots, 1, width, width]}: 0 where allowed, -inf elsewhere. */
    private static NDArray causalMask(NDManager tmp, int[] slots, int[] lenOfSlot, int width) {
        float[] mask = new float[slots.length * width * width];
        for (int i = 0; i < slots.length; i++) {
            int len = lenOfSlot[slots[i]];
            int base = i * width * width;
            for (int q = 0; q < width; q++) {
                for (int k = 0; k < width; k++) {
                    if (k > q || k >= len) {
                        mask[base + q * width + k] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
        return tmp.create(mask, new Shape(slots.length, 1, width, width));
    }
}
