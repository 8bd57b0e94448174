package dev.mue.backend.tf;

import dev.mue.api.GateRecord;
import dev.mue.api.plan.Stream;
import java.util.ArrayList;
import java.util.List;

/** Host-side bookkeeping shared by the graph and eager executables: gate records and scoring layouts. */
final class TfPacking {
    private TfPacking() {
    }

    /**
     * The gates one chain evaluated: after layers {@code 1 .. min(exit, L-1)}, the last one exiting
     * when the chain stopped before its last layer.
     */
    static List<GateRecord> gates(Stream stream, int exitLayer, double[] sims, int layers, double threshold) {
        List<GateRecord> out = new ArrayList<>();
        int last = Math.min(exitLayer, layers - 1);
        for (int i = 1; i <= last; i++) {
            out.add(new GateRecord(stream, i, sims[i - 1], threshold, i == exitLayer && i < layers));
        }
        return out;
    }

    /**
     * One example's scoring rows packed into a single sequence: tokens, each token's position in
     * its row, its row (segment), and which packed positions are scored.
     */
    record Example(int example, int[] rows, int[] tokens, int[] positions, int[] segments, int[] scored,
            int[] scoredPerRow) {
    }

    /** Groups rows by example (examples ascending, rows in order) as the Java scorer does. */
    static List<Example> score(int[] exampleOfRow, int[][] sequences, int[] firstScored) {
        int n = exampleOfRow.length;
        List<Example> out = new ArrayList<>();
        java.util.TreeMap<Integer, List<Integer>> byExample = new java.util.TreeMap<>();
        for (int r = 0; r < n; r++) {
            byExample.computeIfAbsent(exampleOfRow[r], k -> new ArrayList<>()).add(r);
        }
        for (var e : byExample.entrySet()) {
            int[] rows = e.getValue().stream().mapToInt(Integer::intValue).toArray();
            int total = 0;
            int scoredTotal = 0;
            for (int r : rows) {
                total += sequences[r].length;
                scoredTotal += sequences[r].length - firstScored[r];
            }
            int[] tokens = new int[total];
            int[] positions = new int[total];
            int[] segments = new int[total];
            int[] scored = new int[scoredTotal];
            int[] perRow = new int[rows.length];
            int t = 0;
            int s = 0;
            for (int i = 0; i < rows.length; i++) {
                int r = rows[i];
                for (int p = 0; p < sequences[r].length; p++) {
                    tokens[t] = sequences[r][p];
                    positions[t] = p;
                    segments[t] = i;
                    if (p >= firstScored[r]) {
                        scored[s++] = t;
                    }
                    t++;
                }
                perRow[i] = sequences[r].length - firstScored[r];
            }
            out.add(new Example(e.getKey(), rows, tokens, positions, segments, scored, perRow));
        }
        return out;
    }
}
