package dev.mue.benchmarks.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's arithmetic on a hand-made JMH result: peak, GFLOP/s, savings and ratios. */
class TableTest {
    /** The sampled rows' plan costs: 40 GFLOP per pass, 12% of it skipped by the half-depth exit. */
    private static final Map<String, long[]> TINY_TORCH_COSTS = Map.of(
            "torch/ofa-tiny/480/1/full/ve", new long[] {40_000_000_000L, 40_000_000_000L},
            "torch/ofa-tiny/480/1/half/ve", new long[] {40_000_000_000L, 35_200_000_000L});

    /** The report printed for a JMH result array and plan costs, 16-lane vectors. */
    private static String render(String json, Map<String, long[]> costs) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Table.print(new ObjectMapper().readTree(json), costs, 16, new PrintStream(buf, true, StandardCharsets.UTF_8));
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static String row(String backend, String policy, double ms) {
        return "{\"benchmark\":\"dev.mue.benchmarks.model.PassBenchmark.pass\",\"params\":{\"backend\":\"" + backend
                + "\",\"batch\":\"1\",\"model\":\"ofa-base\",\"policy\":\"" + policy + "\",\"size\":\"480\","
                + "\"task\":\"ve\"},\"primaryMetric\":{\"score\":" + ms + ",\"scoreError\":1.0,\"scoreUnit\":\"ms/op\"}}";
    }

    /** A row JMH sampled pass by pass: the mean is pulled up by one slow pass, the median is not. */
    private static String sampledRow(String backend, String policy, double median, double mean) {
        return "{\"benchmark\":\"dev.mue.benchmarks.model.PassBenchmark.pass\",\"params\":{\"backend\":\"" + backend
                + "\",\"batch\":\"1\",\"model\":\"ofa-tiny\",\"policy\":\"" + policy + "\",\"size\":\"480\","
                + "\"task\":\"ve\"},\"primaryMetric\":{\"score\":" + mean + ",\"scoreError\":50.0,\"scorePercentiles\":"
                + "{\"0.0\":" + (median - 5) + ",\"50.0\":" + median + ",\"90.0\":" + (median + 20) + ",\"100.0\":"
                + (mean * 3) + "},\"scoreUnit\":\"ms/op\"}}";
    }

    @Test
    void sampledPassesAreReportedByTheirMedianWithFastestAndNinetiethPercentile() throws Exception {
        String json = "[" + sampledRow("torch", "full", 400, 460) + "," + sampledRow("torch", "half", 352, 360) + "]";
        String out = render(json, TINY_TORCH_COSTS);
        // Medians 400 and 352: a 12.0% saving against 12.0% expected (the means, 460 and 360, would say
        // 21.7%); 40 GFLOP in 400 ms, against no measured peak in this file.
        assertTrue(out.contains("| ve | ofa-tiny | 480 | 1 | torch | 400 (395-420) | 352 | 100.0 (NaN%) | 12.0% | 12.0% | 1.00 |"),
                out);
    }

    @Test
    void ofRoundsOfTheSameRowTheFasterIsKeptWithItsSpread() throws Exception {
        // Round one: a burst of load slowed the full fork (median 470); round two: the half fork (390).
        String json = "[" + sampledRow("torch", "full", 470, 480) + "," + sampledRow("torch", "half", 352, 360) + ","
                + sampledRow("torch", "full", 400, 460) + "," + sampledRow("torch", "half", 390, 395) + "]";
        String out = render(json, TINY_TORCH_COSTS);
        // Full from round two (400, fastest 395, p90 420), half from round one (352): 12.0% as expected;
        // either round alone would have said 25.1% or 2.5%.
        assertTrue(out.contains("| ve | ofa-tiny | 480 | 1 | torch | 400 (395-420) | 352 | 100.0 (NaN%) | 12.0% | 12.0% | 1.00 |"),
                out);
    }

    @Test
    void figuresAreFractionsOfTheMeasuredPeakAndSavingsComeFromThePlan() throws Exception {
        String json = "[{\"benchmark\":\"dev.mue.benchmarks.peak.FmaPeakBenchmark.peak1\",\"params\":null,"
                + "\"primaryMetric\":{\"score\":10.0,\"scoreError\":0.1,\"scoreUnit\":\"ops/ns\"}},"
                + "{\"benchmark\":\"dev.mue.benchmarks.peak.FmaPeakBenchmark.peakAll\",\"params\":null,"
                + "\"primaryMetric\":{\"score\":20.0,\"scoreError\":0.1,\"scoreUnit\":\"ops/ns\"}},"
                + row("java", "full", 1000) + "," + row("java", "half", 600) + "," + row("tf", "full", 2000) + ","
                + row("tf", "half", 1500) + ","
                + "{\"benchmark\":\"dev.mue.benchmarks.kernels.OfaShapesBenchmark.run\",\"params\":{\"op\":\"gemm-proj\","
                + "\"threads\":\"1\"},\"primaryMetric\":{\"score\":26.5421568,\"scoreError\":0.5,\"scoreUnit\":\"ms/op\"}}]";
        Map<String, long[]> costs = Map.of(
                "java/ofa-base/480/1/full/ve", new long[] {160_000_000_000L, 160_000_000_000L},
                "java/ofa-base/480/1/half/ve", new long[] {160_000_000_000L, 96_000_000_000L},
                "tf/ofa-base/480/1/full/ve", new long[] {160_000_000_000L, 160_000_000_000L},
                "tf/ofa-base/480/1/half/ve", new long[] {160_000_000_000L, 96_000_000_000L});
        String out = render(json, costs);
        // 10 lane-FMA/ns counted in 8-lane units, 16 lanes, 2 FLOPs each: 40 GFLOP/s; all threads 80.
        assertTrue(out.contains("40.0 GFLOP/s on 1 thread, 80.0 GFLOP/s on all"), out);
        // 160 GFLOP in 1 s = 160 GFLOP/s = 200% of an 80 GFLOP/s peak; saving 40% measured vs 40% expected.
        assertTrue(out.contains("| ve | ofa-base | 480 | 1 | java | 1000 ± 1.0 | 600 | 160.0 (200%) | 40.0% | 40.0% | 1.00 |"),
                out);
        assertTrue(out.contains("| ve | ofa-base | 480 | 1 | tf | 2000 ± 1.0 | 1500 | 80.0 (100%) | 25.0% | 40.0% | 0.63 |"),
                out);
        // 2 x 900 x 768 x 768 = 1.0617 GFLOP in 26.54 ms = 40.0 GFLOP/s = 100% of the 1-thread peak.
        assertTrue(out.contains("| gemm-proj | 1 | 26.54 ± 0.50 | 40.0 | 100% |"), out);
        // tf over java: 2.00 at full depth, 2.50 with the exit.
        assertTrue(out.contains("| ve | ofa-base | 480 | 1 | 2.00 | - | 2.50 | - |"), out);
    }

    @Test
    void resultFilesAreReadAsOneArrayAndABadFileIsNamedInOneLine(@TempDir Path dir) throws Exception {
        Path one = Files.writeString(dir.resolve("one.json"), "[" + row("java", "full", 500) + "]");
        Path two = Files.writeString(dir.resolve("two.json"), "[" + row("tf", "full", 600) + "," + row("tf", "half", 400)
                + "]");
        assertEquals(3, Table.readResults(one.toString(), two.toString()).size());

        Path object = Files.writeString(dir.resolve("object.json"), "{\"benchmark\": 1}");
        Path truncated = Files.writeString(dir.resolve("truncated.json"), "[" + row("java", "full", 500));
        Path empty = Files.writeString(dir.resolve("empty.json"), "");
        Path missing = dir.resolve("missing.json");
        assertEquals(object + " is not a JMH result file (a JSON array), but a JSON object",
                assertThrows(IllegalArgumentException.class, () -> Table.readResults(one.toString(), object.toString()))
                        .getMessage());
        assertEquals(empty + " is not a JMH result file (a JSON array), but empty",
                assertThrows(IllegalArgumentException.class, () -> Table.readResults(empty.toString())).getMessage());
        assertEquals("no result file " + missing,
                assertThrows(IllegalArgumentException.class, () -> Table.readResults(missing.toString())).getMessage());
        String bad = assertThrows(IllegalArgumentException.class, () -> Table.readResults(truncated.toString()))
                .getMessage();
        assertTrue(bad.startsWith(truncated + " is not JSON: ") && !bad.contains("\n"), bad);
    }
}
