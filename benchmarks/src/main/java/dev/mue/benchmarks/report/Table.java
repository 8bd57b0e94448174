package dev.mue.benchmarks.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints the benchmark tables in Markdown from a JMH JSON result file ({@code -rf json}) and the
 * FLOPs the pass benchmark recorded from its exit traces ({@code pass-costs.tsv}: per example, the
 * whole pass without exits and as the row's policy ran it, from the plan's node cost formulas at
 * the extents really run):
 *
 * <ul>
 *   <li>the FMA peak, 1 thread and all threads, in GFLOP/s (JMH's lane-FMA throughput x 2,
 *       rescaled from the 8 lanes the operation count assumes to the lanes the run had);</li>
 *   <li>the Java kernels at OFA-base shapes ({@code OfaShapesBenchmark}) in GFLOP/s and as a
 *       fraction of the peak for the same number of threads;</li>
 *   <li>per task, model, image size and batch: each backend's median time per pass (over every
 *       pass timed, when JMH sampled them one by one; its mean otherwise) at full depth, with the
 *       fastest and the 90th percentile pass, and with the forced half-depth exit, the full
 *       pass's GFLOP/s as a fraction of the all-threads peak
 *       (entailment only: a caption's trace counts its chosen beam, not the search), the measured
 *       saving, the expected saving over the whole pass (the traces' whole-pass FLOP reduction:
 *       backbone, embeddings and head included) and their ratio;</li>
 *   <li>ratios between backends of the same row, from the same run.</li>
 * </ul>
 *
 * <p>Several result files are read as one run. When a pass row (backend, model, size, batch,
 * policy, task) appears in more than one, as when {@code benchmarks/table.sh} runs the passes in
 * rounds, the round with the lower median is kept with its spread: on a shared machine another
 * process's burst of load only ever slows a fork down, so the faster round is the better estimate
 * of the pass, and a burst that hit the full or the half fork of one round alone no longer decides
 * the measured saving.
 *
 * <p>Usage: {@code Table RESULT.json[,MORE.json...] [PASS-COSTS.tsv] [LANES]}; output on standard
 * output.
 */
public final class Table {
    private Table() {
    }

    /**
     * One backend's figures in a pass row: the time per pass at full depth ({@code ms[0]}) and with
     * the half-depth exit ({@code ms[1]}), the FLOPs of the whole pass without and with the exit,
     * and the full-depth spread (fastest and 90th-percentile pass when sampled, JMH's error of the
     * mean otherwise). NaN where the run has no figure.
     */
    private static final class Pass {
        final double[] ms = {Double.NaN, Double.NaN};
        double flopsFull = Double.NaN;
        double flopsHalf = Double.NaN;
        double fastest = Double.NaN;
        double p90 = Double.NaN;
        double error = Double.NaN;
    }

    /** One pass benchmark row's key (everything but the backend and the policy). */
    private record Row(String task, String model, int size, int batch) implements Comparable<Row> {
        @Override
        public int compareTo(Row o) {
            int c = task.compareTo(o.task);
            if (c == 0) {
                c = order(model) - order(o.model);
            }
            if (c == 0) {
                c = Integer.compare(o.size, size);
            }
            return c != 0 ? c : Integer.compare(batch, o.batch);
        }

        private static int order(String m) {
            return switch (m) {
                case "ofa-tiny" -> 0;
                case "ofa-medium" -> 1;
                case "ofa-base" -> 2;
                default -> 3;
            };
        }
    }

    /** Entry point; see the class comment. */
    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: Table RESULT.json[,MORE.json...] [PASS-COSTS.tsv] [LANES]");
            System.exit(2);
        }
        JsonNode results;
        try {
            results = readResults(args[0].split(","));
        } catch (IllegalArgumentException e) {
            System.err.println("Table: " + e.getMessage());
            System.exit(2);
            return;
        }
        Map<String, long[]> costs = args.length > 1 && Files.exists(Path.of(args[1])) ? costs(Path.of(args[1]))
                : Map.of();
        int lanes = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        print(results, costs, lanes, System.out);
    }

    /**
     * The entries of JMH JSON result files, in order, as one array.
     *
     * @throws IllegalArgumentException with one line naming the file, when one is missing, is not
     *                                  JSON, or is not the JSON array JMH writes
     */
    static JsonNode readResults(String... files) {
        ObjectMapper json = new ObjectMapper();
        ArrayNode results = json.createArrayNode();
        for (String file : files) {
            Path path = Path.of(file);
            JsonNode tree;
            try {
                tree = json.readTree(path.toFile());
            } catch (IOException e) {
                throw new IllegalArgumentException(Files.exists(path) ? file + " is not JSON: "
                        + e.getMessage().lines().findFirst().orElse("") : "no result file " + file, e);
            }
            if (!(tree instanceof ArrayNode entries)) {
                throw new IllegalArgumentException(file + " is not a JMH result file (a JSON array), but "
                        + (tree == null || tree.isMissingNode() ? "empty" : "a JSON " + tree.getNodeType()
                                .toString().toLowerCase(Locale.ROOT)));
            }
            results.addAll(entries);
        }
        return results;
    }

    private static Map<String, long[]> costs(Path tsv) throws IOException {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(tsv)) {
            String[] f = line.split("\t");
            if (f.length == 8) {
                out.put(String.join("/", f[0], f[1], f[2], f[3], f[4], f[5]),
                        new long[] {Long.parseLong(f[6]), Long.parseLong(f[7])});
            }
        }
        return out;
    }

    static void print(JsonNode results, Map<String, long[]> costs, int lanes, PrintStream out) {
        double peak1 = Double.NaN;
        double peakAll = Double.NaN;
        Map<Row, Map<String, Pass>> passes = new TreeMap<>();
        List<String> other = new ArrayList<>();
        List<double[]> kernels = new ArrayList<>();
        List<String> kernelNames = new ArrayList<>();
        for (JsonNode r : results) {
            String name = r.get("benchmark").asText();
            double score = r.get("primaryMetric").get("score").asDouble();
            double error = r.get("primaryMetric").get("scoreError").asDouble();
            JsonNode p = r.get("params");
            if (name.endsWith("FmaPeakBenchmark.peak1")) {
                peak1 = score * 2 * lanes / 8.0;
            } else if (name.endsWith("FmaPeakBenchmark.peakAll")) {
                peakAll = score * 2 * lanes / 8.0;
            } else if (name.endsWith("OfaShapesBenchmark.run")) {
                kernels.add(new double[] {p.get("threads").asInt(), score, error});
                kernelNames.add(p.get("op").asText());
            } else if (name.endsWith("PassBenchmark.pass")) {
                Row row = new Row(p.get("task").asText(), p.get("model").asText(), p.get("size").asInt(),
                        p.get("batch").asInt());
                String be = p.get("backend").asText();
                Pass v = passes.computeIfAbsent(row, k -> new TreeMap<>()).computeIfAbsent(be, k -> new Pass());
                int slot = "full".equals(p.get("policy").asText()) ? 0 : 1;
                JsonNode pct = r.get("primaryMetric").get("scorePercentiles");
                boolean sampled = pct != null && pct.has("50.0");
                double ms = sampled ? pct.get("50.0").asDouble() : score;
                if (ms >= v.ms[slot]) {
                    continue; // an earlier round of this row was faster (a NaN slot never compares >=)
                }
                v.ms[slot] = ms;
                long[] c = costs.get(String.join("/", be, row.model, Integer.toString(row.size),
                        Integer.toString(row.batch), p.get("policy").asText(), row.task));
                if (c != null) {
                    v.flopsFull = c[0];
                    if (slot == 1) {
                        v.flopsHalf = c[1];
                    }
                }
                if (slot == 0) {
                    if (sampled) {
                        v.fastest = pct.get("0.0").asDouble();
                        v.p90 = pct.has("90.0") ? pct.get("90.0").asDouble() : Double.NaN;
                    } else {
                        v.error = error;
                    }
                }
            } else {
                other.add(String.format(Locale.ROOT, "| %s %s | %.3f ± %.3f %s |", name.substring(name.lastIndexOf('.',
                        name.lastIndexOf('.') - 1) + 1), p == null ? "" : p.toString(), score, error,
                        r.get("primaryMetric").get("scoreUnit").asText()));
            }
        }
        out.printf(Locale.ROOT, "FP32 FMA peak, measured (%d-lane vectors): %.1f GFLOP/s on 1 thread, %.1f GFLOP/s "
                + "on all %d hardware threads.%n%n", lanes, peak1, peakAll, Runtime.getRuntime().availableProcessors());
        if (!kernels.isEmpty()) {
            out.println("| kernel at OFA-base shapes | threads | ms per call | GFLOP/s | % of peak (same threads) |");
            out.println("|---|---|---|---|---|");
            for (int i = 0; i < kernels.size(); i++) {
                double[] k = kernels.get(i);
                String op = kernelNames.get(i);
                double gflops = dev.mue.benchmarks.kernels.OfaShapesBenchmark.flops(op) / (k[1] * 1e6);
                double peak = k[0] == 1 ? peak1 : peakAll;
                out.printf(Locale.ROOT, "| %s | %d | %.2f ± %.2f | %.1f | %.0f%% |%n", op, (int) k[0], k[1], k[2], gflops,
                        100 * gflops / peak);
            }
            out.println();
        }
        if (!passes.isEmpty()) {
            out.println("| task | model | px | batch | backend | full, median ms (fastest-p90) | half-depth exit, "
                    + "median ms | full GFLOP/s (% of peak) | measured saving | expected saving (whole pass) "
                    + "| measured / expected |");
            out.println("|---|---|---|---|---|---|---|---|---|---|---|");
            for (Map.Entry<Row, Map<String, Pass>> e : passes.entrySet()) {
                Row row = e.getKey();
                for (Map.Entry<String, Pass> b : e.getValue().entrySet()) {
                    Pass v = b.getValue();
                    double gflops = v.flopsFull * row.batch / (v.ms[0] * 1e6);
                    double measured = 1 - v.ms[1] / v.ms[0];
                    double expected = 1 - v.flopsHalf / v.flopsFull;
                    out.printf(Locale.ROOT, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |%n", row.task,
                            row.model, row.size, row.batch, b.getKey(), num(v.ms[0]) + spread(v), num(v.ms[1]),
                            "ve".equals(row.task) && !Double.isNaN(gflops)
                                    ? String.format(Locale.ROOT, "%.1f (%.0f%%)", gflops, 100 * gflops / peakAll) : "-",
                            pct(measured), pct(expected), Double.isNaN(measured / expected) ? "-"
                                    : String.format(Locale.ROOT, "%.2f", measured / expected));
                }
            }
            out.println();
            out.println("| task | model | px | batch | java / tf (full) | java / torch (full) | java / tf (half) | "
                    + "java / torch (half) |");
            out.println("|---|---|---|---|---|---|---|---|");
            for (Map.Entry<Row, Map<String, Pass>> e : passes.entrySet()) {
                Row row = e.getKey();
                Map<String, Pass> m = e.getValue();
                out.printf(Locale.ROOT, "| %s | %s | %d | %d | %s | %s | %s | %s |%n", row.task, row.model, row.size,
                        row.batch, ratio(m, "tf", 0), ratio(m, "torch", 0), ratio(m, "tf", 1), ratio(m, "torch", 1));
            }
            out.println();
            out.println("A ratio is the other backend's time over java's: above 1, java is faster.");
        }
        if (!other.isEmpty()) {
            out.println();
            out.println("| other benchmark | score |");
            out.println("|---|---|");
            other.forEach(out::println);
        }
    }

    private static String ratio(Map<String, Pass> m, String other, int slot) {
        Pass j = m.get("java");
        Pass o = m.get(other);
        if (j == null || o == null || Double.isNaN(j.ms[slot]) || Double.isNaN(o.ms[slot])) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.2f", o.ms[slot] / j.ms[slot]);
    }

    /** The full pass's fastest and 90th-percentile times, or JMH's error of the mean when it did not sample. */
    private static String spread(Pass v) {
        if (!Double.isNaN(v.fastest)) {
            return " (" + num(v.fastest) + "-" + num(v.p90) + ")";
        }
        return Double.isNaN(v.error) ? "" : " ± " + num(v.error);
    }

    private static String num(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String pct(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }
}
