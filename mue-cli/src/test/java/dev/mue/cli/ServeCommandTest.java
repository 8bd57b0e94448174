package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@code mue serve}'s command line: its help names the routes and the limits, and an out-of-range
 * limit is one error line naming the option, before any model is loaded. (The server itself is
 * tested in mue-serve, on a real port; {@code ./mue serve} end to end is the README's check.)
 */
class ServeCommandTest {
    @Test
    void helpNamesTheRoutesAndTheLimits() {
        CliRun r = MueCliTest.ok("serve", "--help");
        for (String s : new String[] {"/v2/health/ready", "/v2/models/{caption|entail}/infer", "/metrics", "--port",
                "--max-batch", "--max-delay-ms", "--queue", "--timeout-ms", "--max-body-bytes", "--max-text-chars",
                "--no-policy-override", "--min-threshold", "--model", "--backend", "--policy"}) {
            assertTrue(r.out().contains(s), () -> "help lacks " + s + ":\n" + r);
        }
    }

    @Test
    void anOutOfRangeLimitIsOneLineNamingTheOption() {
        CliRun r = CliRun.of("serve", "--port", "0", "--max-batch", "0");
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals("mue: error: --max-batch must be >= 1, got 0", r.err().strip());
        CliRun q = CliRun.of("serve", "--port", "0", "--max-batch", "16", "--queue", "4");
        assertEquals(1, q.exitCode(), q::toString);
        assertEquals("mue: error: --queue must be >= --max-batch (16), got 4", q.err().strip());
        CliRun t = CliRun.of("serve", "--port", "0", "--min-threshold", "2");
        assertEquals("mue: error: --min-threshold must be in [-1, 1], got 2.0", t.err().strip());
    }
}
