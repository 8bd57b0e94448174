package dev.mue.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.mue.api.ModelFormatException;
import dev.mue.api.model.ConfigJson;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.WeightLayout;
import java.nio.charset.StandardCharsets;

/**
 * {@code config.json}: parse, then what loading does next with a config (count its parameters
 * against a file's capacity) and what writing does (the text round-trips).
 */
class ConfigJsonFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void parsesOrRefuses(byte[] data) {
        ModelConfig c;
        try {
            c = ConfigJson.parse(new String(data, StandardCharsets.UTF_8), "fuzz/config.json");
        } catch (ModelFormatException expected) {
            return;
        }
        // a bundle's weights hold at most a few hundred million parameters here; the count stops there
        long n = WeightLayout.parameterCount(c, 500_000_000L);
        if (n <= 0) {
            throw new AssertionError("a valid config with " + n + " parameters: " + c);
        }
        ModelConfig again = ConfigJson.parse(ConfigJson.toJson(c), "round trip");
        if (!again.equals(c)) {
            throw new AssertionError("config does not round-trip: " + c + " became " + again);
        }
    }
}
