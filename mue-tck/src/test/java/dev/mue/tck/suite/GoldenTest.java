package dev.mue.tck.suite;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mue.tck.cases.TckCase;
import dev.mue.tck.cases.TckCases;
import dev.mue.tck.check.CaseRunner;
import dev.mue.tck.golden.GoldenFiles;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The reference against its committed golden files, so that a change to the reference itself (or
 * to the catalogue, the random weights or the input generator) is caught. Each file's
 * specification is rebuilt into a case independently of the catalogue and run on the reference;
 * its results must match within {@link GoldenFiles#TOLERANCE}. The catalogue's case of the same
 * name must have the same specification (the same thresholds placed).
 *
 * <p>After an intended change, regenerate the files with
 * {@link dev.mue.tck.golden.GoldenWriter} and review the diff.
 */
class GoldenTest {

    @Test
    void atLeastTwelveCasesHaveGoldenFiles() {
        List<String> names = TckCases.goldenNames();
        assertTrue(names.size() >= 12, "golden cases: " + names.size());
        for (String n : names) {
            assertNotNull(GoldenFiles.load(n), "golden file " + n + ".json is missing: run GoldenWriter");
        }
    }

    @TestFactory
    Stream<DynamicTest> referenceReproducesEveryGoldenFile() {
        return TckCases.goldenNames().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode golden = GoldenFiles.load(name);
            assertNotNull(golden, "golden file " + name + ".json is missing: run GoldenWriter");
            TckCase c = GoldenFiles.caseOf(golden);
            JsonNode actual = GoldenFiles.results(CaseRunner.reference(c).run());
            List<String> diff = GoldenFiles.differences(golden.get("reference"), actual);
            if (!diff.isEmpty()) {
                fail("the reference no longer reproduces golden file " + name + ".json (if the change is intended, "
                        + "regenerate with GoldenWriter and review the diff):\n  " + String.join("\n  ", diff));
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> catalogueMatchesEveryGoldenSpecification() {
        return TckCases.goldenNames().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode golden = GoldenFiles.load(name);
            assertNotNull(golden, "golden file " + name + ".json is missing: run GoldenWriter");
            List<String> diff = GoldenFiles.differences(golden.get("spec"), GoldenFiles.spec(TckCases.byName(name)));
            if (!diff.isEmpty()) {
                fail("the catalogue's case " + name + " no longer matches its golden specification (thresholds placed, "
                        + "seeds or inputs changed):\n  " + String.join("\n  ", diff));
            }
        }));
    }
}
