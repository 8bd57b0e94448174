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
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals("mue: --max-batch must be >= 1, got 0", r.errLines().get(0));
        CliRun q = CliRun.of("serve", "--port", "0", "--max-batch", "16", "--queue", "4");
        assertEquals(2, q.exitCode(), q::toString);
        assertEquals("mue: --queue must be >= --max-batch (16), got 4", q.errLines().get(0));
        CliRun t = CliRun.of("serve", "--port", "0", "--min-threshold", "2");
        assertEquals("mue: --min-threshold must be in [-1, 1], got 2.0", t.errLines().get(0));
    }
}
