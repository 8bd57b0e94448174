package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.PolicyFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mue calibrate} and {@code mue eval --policy / --pareto} on the bundled model with a few
 * validation examples (the guarantee itself is tested in mue-train; here: what the commands print,
 * write, refuse and exit with).
 */
class CalibrateCommandTest {

    @Test
    void writesACertifiedPolicyAndKeepsTheOtherTasksEntry(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("p.json");
        CliRun ve = CliRun.of("calibrate", "--task", "ve", "--risk", "0.9", "--confidence", "0.5", "--examples", "6",
                "--repeats", "1", "--out", out.toString());
        assertEquals(0, ve.exitCode(), ve::toString);
        assertTrue(ve.out().contains("certificate:") && ve.out().contains("guarantee: risk <= delta 0.9 with probability >= 0.5"),
                ve::toString);
        assertTrue(ve.out().contains("grid: 199 candidates") && ve.out().contains("chosen on 2 examples, tested on 4"), ve::toString);
        assertTrue(ve.err().contains("calibrate: 199 candidates on 2 path examples"), ve::toString);
        ModelPolicies p = PolicyFile.read(out, "x");
        assertEquals(4, p.entail().certificate().n());
        assertEquals(0.5, p.entail().certificate().epsilon());
        // the policy file drives eval --policy, on the test split
        CliRun eval = CliRun.of("eval", "--task", "ve", "--policy", out.toString(), "--examples", "5", "--repeats", "1",
                "--out", dir.resolve("eval").toString());
        assertEquals(0, eval.exitCode(), eval::toString);
        assertTrue(eval.out().contains("policy from: --policy " + out + " (calibrated: delta 0.9, epsilon 0.5)"), eval::toString);
        assertTrue(eval.out().matches("(?s).*against the full model on 5 test examples: answers differ on \\d+\\.\\d%, "
                + "measured time [-+]\\d+\\.\\d%.*"), eval::toString);
        CliRun cap = CliRun.of("calibrate", "--task", "caption", "--risk", "0.9", "--confidence", "0.5", "--examples", "3",
                "--repeats", "1", "--out", out.toString());
        assertEquals(0, cap.exitCode(), cap::toString);
        assertTrue(cap.out().contains("other entries kept"), cap::toString);
        ModelPolicies both = PolicyFile.read(out, "x");
        assertEquals(p.entail(), both.entail());
        assertTrue(both.caption().certificate().loss().contains("ROUGE-L"));
    }

    @Test
    void nothingCertifiedExitsThreeAndWritesNothing(@TempDir Path dir) {
        Path out = dir.resolve("p.json");
        CliRun r = CliRun.of("calibrate", "--task", "ve", "--risk", "0.01", "--confidence", "0.95", "--examples", "4",
                "--out", out.toString());
        assertEquals(CalibrateCommand.NOTHING_CERTIFIED, r.exitCode(), r::toString);
        assertTrue(r.out().contains("nothing certified at risk 0.01 with confidence 0.95: the first candidate on the path"),
                r::toString);
        // 3 test examples without a changed answer certify at best 1 - 0.05^(1/3) = 0.6316; with any changed, more
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("the smallest risk it could be certified at is ([0-9.]+); "
                + java.util.regex.Pattern.quote(out.toString()) + " not written").matcher(r.out());
        assertTrue(m.find(), r::toString);
        double smallest = Double.parseDouble(m.group(1));
        assertTrue(smallest >= 0.6316 && smallest <= 1, r::toString);
        assertFalse(Files.exists(out));
    }

    @Test
    void unwritableOrForeignOutputFailsBeforeAnyWork(@TempDir Path dir) throws Exception {
        CliRun r = CliRun.of("calibrate", "--task", "ve", "--risk", "0.1", "--confidence", "0.9",
                "--out", dir.resolve("no-such-dir").resolve("p.json").toString());
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().startsWith("mue: error: cannot write --out "), r::toString);
        Path foreign = dir.resolve("notes.json");
        Files.writeString(foreign, "{\"my\": \"notes\"}");
        CliRun f = CliRun.of("calibrate", "--task", "ve", "--risk", "0.1", "--confidence", "0.9", "--out", foreign.toString());
        assertEquals(1, f.exitCode(), f::toString);
        assertTrue(f.err().startsWith("mue: error: " + foreign + ": unknown key 'my'"), f::toString);
        assertEquals("{\"my\": \"notes\"}", Files.readString(foreign), "never overwritten");
        CliRun bad = CliRun.of("calibrate", "--task", "ve", "--risk", "1.5", "--confidence", "0.9", "--out",
                dir.resolve("x.json").toString());
        assertEquals(2, bad.exitCode(), bad::toString);
        assertTrue(bad.err().startsWith("mue: --risk (delta) must be in (0, 1)"), bad::toString);
    }

    @Test
    void paretoPrintsTheFrontAndPlotsIt(@TempDir Path dir) throws Exception {
        CliRun r = CliRun.of("eval", "--task", "ve", "--pareto", "--examples", "3", "--repeats", "1", "--batch-size", "3",
                "--out", dir.toString());
        assertEquals(0, r.exitCode(), r::toString);
        String md = Files.readString(dir.resolve("eval-ve-pareto.md"));
        assertTrue(md.startsWith("Visual entailment on 3 validation examples"), md);
        assertTrue(md.contains("Non-dominated points (quality against measured time) of 199 candidates"), md);
        // the bundle's policy is calibrated: it is marked, on the front or as the last row
        assertTrue(md.contains("certified policy") && r.out().contains("| certified: bundle policy.json (delta "), md);
        long rows = md.lines().filter(l -> l.startsWith("| ") && !l.startsWith("| model")).count();
        assertTrue(rows >= 2 && rows <= 201, md);
        assertTrue(Files.size(dir.resolve("eval-ve-pareto.png")) > 1000);
    }

    @Test
    void gridFlagsReplaceTheDefaultListsAndTheCertificateRecordsThem(@TempDir Path dir) throws Exception {
        CliRun r = CliRun.of("eval", "--task", "ve", "--pareto", "--examples", "3", "--repeats", "1", "--batch-size", "3",
                "--grid-image", "0.99,0.98", "--grid-text", "1", "--grid-decoder", "0.9", "--out", dir.toString());
        assertEquals(0, r.exitCode(), r::toString);
        String md = Files.readString(dir.resolve("eval-ve-pareto.md"));
        assertTrue(md.contains("of 2 candidates (image [0.99, 0.98] x text [1.0] x decoder [0.9], fixed)"), md);
        assertFalse(md.contains("img>1, txt>1, dec 0.95"), "a default candidate ran: " + md);
        Path out = dir.resolve("p.json");
        CliRun cal = CliRun.of("calibrate", "--task", "ve", "--risk", "0.9", "--confidence", "0.5", "--examples", "6",
                "--repeats", "1", "--grid-image", "1,0.9", "--grid-text", "1", "--grid-decoder", "1,0.95", "--out", out.toString());
        assertEquals(0, cal.exitCode(), cal::toString);
        assertTrue(cal.out().contains("grid: 3 candidates (image [1.0, 0.9] x text [1.0] x decoder [1.0, 0.95], fixed)"),
                cal::toString);
        dev.mue.api.policy.Certificate.Grid g = PolicyFile.read(out, "x").entail().certificate().grid();
        assertEquals(java.util.List.of(1.0, 0.9), g.image());
        assertEquals(java.util.List.of(1.0, 0.95), g.decoder());
    }

    @Test
    void aBadGridIsAUsageErrorBeforeAnyWork(@TempDir Path dir) {
        String[][] cases = {
            {"mue: '--grid-image' repeats a threshold: [1.0, 1.0]", "eval", "--task", "ve", "--pareto", "--grid-image", "1,1"},
            {"mue: '--grid-decoder' thresholds must be in [-1, 1], got 1.5", "calibrate", "--task", "ve", "--risk", "0.1",
                "--confidence", "0.9", "--out", dir.resolve("p.json").toString(), "--grid-decoder", "1,1.5"},
            {"mue: the grid holds only the full model (every threshold 1): nothing to choose from", "eval", "--task",
                "caption", "--pareto", "--grid-image", "1", "--grid-text", "1", "--grid-decoder", "1"},
            {"mue: --grid-image, --grid-text and --grid-decoder shape the --pareto sweep; give --pareto", "eval", "--task",
                "ve", "--grid-image", "0.99"},
        };
        for (String[] c : cases) {
            CliRun r = CliRun.of(java.util.Arrays.copyOfRange(c, 1, c.length));
            assertEquals(MueCli.EXIT_USAGE, r.exitCode(), r::toString);
            assertEquals(c[0], r.errLines().get(0), r::toString);
            assertFalse(Files.exists(dir.resolve("p.json")));
        }
    }
}
