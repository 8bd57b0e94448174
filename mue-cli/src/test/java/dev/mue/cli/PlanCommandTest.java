package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@code mue plan --backend ID} adds what a compiling backend built from the plan, through
 * {@code Executable.describeCompiled()} (no reflection): the tf backend lists its graphs' {@code If}
 * nodes; an interpreting backend (java) adds nothing.
 */
class PlanCommandTest {

    @Test
    void theTfBackendListsItsCompiledIfNodes() {
        CliRun r = CliRun.of("plan", "--backend", "tf", "--decoder-threshold", "0.9");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("conditional nodes"), r.out());
        assertTrue(r.out().matches("(?s).*gate\\.decoder\\.L1 .*If\\(cos.*"), r.out());
    }

    @Test
    void theJavaBackendAddsNothing() {
        CliRun r = CliRun.of("plan", "--backend", "java");
        assertEquals(0, r.exitCode(), r.toString());
        assertFalse(r.out().contains("conditional nodes"), r.out());
        assertTrue(r.out().contains("total (no exits)"), r.out());
    }
}
