package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@code --bos ban|allow}: the bos rule of generation, defaulting to the model's conventions (the
 * shipped model bans it, as it was decoded when trained); anything else is a one-line error.
 */
class DecodingFlagsTest {
    private static final String SAMPLE = java.nio.file.Path.of("..", "samples", "fmnist-test-0.png").toString();

    @Test
    void theBosRuleIsAFlagWithTheModelsDefault() {
        CliRun banned = CliRun.of("caption", SAMPLE, "--bos", "ban");
        assertEquals(0, banned.exitCode(), banned.toString());
        CliRun byDefault = CliRun.of("caption", SAMPLE);
        assertEquals(banned.out(), byDefault.out(), "the shipped model's conventions ban bos");
        CliRun allowed = CliRun.of("caption", SAMPLE, "--bos", "allow");
        assertEquals(0, allowed.exitCode(), allowed.toString());
    }

    @Test
    void anUnknownRuleIsRefused() {
        CliRun r = CliRun.of("caption", SAMPLE, "--bos", "maybe");
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals("mue: --bos must be ban or allow, got 'maybe'", r.errLines().get(0));
        assertEquals(2, r.err().strip().lines().count(), "the error and the hint to --help: " + r.err());
    }
}
