package dev.mue.tck.suite;

import static org.junit.jupiter.api.Assertions.fail;

import dev.mue.api.UnsupportedFeatureException;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.BackendProvider;
import dev.mue.api.spi.Backends;
import dev.mue.api.spi.Capabilities;
import dev.mue.api.spi.Executable;
import dev.mue.runtime.Runtime;
import dev.mue.tck.cases.TckCase;
import dev.mue.tck.cases.TckCases;
import dev.mue.tck.check.CaseRun;
import dev.mue.tck.check.CaseRunner;
import dev.mue.tck.check.Comparison;
import dev.mue.tck.check.ReferenceRun;
import dev.mue.tck.check.Report;
import dev.mue.tck.check.Tolerances;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

/**
 * The conformance suite (design §7): runs every catalogue case on the backend named by the system
 * property {@value #PROPERTY} and compares it with the float64 reference under
 * {@link Tolerances}: encoder exits and outputs, every decoder step of the reference's beam
 * search replayed (gates, exit layers, logits), the backend's own beam search (tokens, scores,
 * exits), the scoring pass, every example of a batch against the same example alone, and the
 * rejection of bad inputs.
 *
 * <p>Outcomes: pass; fail (the message lists every problem found); unsupported (the case needs a
 * KV policy or encoder mode the backend's {@link Capabilities} do not declare: the test is
 * aborted with a message starting {@code unsupported:}); skipped (no backend named, or it is not
 * available here). Nothing passes silently: {@link TckSummary} prints one line per backend.
 */
class BackendConformanceTest {
    /** The system property naming the backend under test. */
    static final String PROPERTY = "mue.tck.backend";

    private static String id;
    private static BackendProvider provider;
    private static Backend backend;
    private static TckSummary.Tally tally;

    @BeforeAll
    static void open() {
        Optional<String> requested = Optional.ofNullable(System.getProperty(PROPERTY)).map(String::strip)
                .filter(s -> !s.isEmpty()).map(s -> s.toLowerCase(Locale.ROOT));
        if (requested.isEmpty()) {
            String why = "skipped: no backend under test (set -D" + PROPERTY + "=ID, e.g. in the backend module's "
                    + "surefire systemPropertyVariables)";
            TckSummary.of("?").note(why);
            Assumptions.abort(why);
        }
        id = requested.get();
        tally = TckSummary.of(id);
        Backends.ProviderStatus status = Backends.statuses().stream().filter(s -> s.provider().id().equals(id))
                .findFirst().orElseThrow(() -> new AssertionError("unknown backend '" + id + "' in -D" + PROPERTY
                        + "; known: " + Backends.statuses().stream().map(s -> s.provider().id()).toList()));
        if (!status.availability().available()) {
            for (int i = 0; i < TckCases.all().size(); i++) {
                tally.outcome(TckSummary.Outcome.SKIPPED);
            }
            String why = "skipped: backend '" + id + "' is not available here: " + status.availability().reason();
            tally.note(why);
            Assumptions.abort(why);
        }
        provider = status.provider();
        backend = provider.create(BackendOptions.defaults());
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
            backend = null;
        }
        if (!TckSummary.listenerActive()) {
            TckSummary.print(System.out);
        }
    }

    /** The capability a case needs that the backend does not declare, or null. */
    static String gap(Capabilities caps, ExitPolicy p) {
        if (!caps.kvPolicies().contains(p.kvPolicy())) {
            return "unsupported: KV policy " + p.kvPolicy() + " is not among the declared " + caps.kvPolicies();
        }
        if (!caps.encoderModes().contains(p.encoderMode())) {
            return "unsupported: encoder mode " + p.encoderMode() + " is not among the declared " + caps.encoderModes();
        }
        return null;
    }

    @TestFactory
    Stream<DynamicTest> cases() {
        return TckCases.all().stream().map(c -> DynamicTest.dynamicTest(c.name() + ": " + c.description(), () -> run(c)));
    }

    private static void run(TckCase c) {
        String missing = gap(provider.capabilities(), c.policy());
        if (missing != null) {
            tally.outcome(TckSummary.Outcome.UNSUPPORTED);
            Assumptions.abort(missing);
        }
        try {
            ReferenceRun ref = CaseRunner.reference(c);
            CaseRun run;
            try {
                run = CaseRunner.backend(backend, c);
            } catch (UnsupportedFeatureException e) {
                throw new AssertionError("backend '" + id + "' refused a case within its declared capabilities: "
                        + e.getMessage(), e);
            }
            Report r = Comparison.compare(ref, ref.run(), run, Tolerances.VECTOR);
            r.add(Comparison.batchVsSingles(ref, run, Tolerances.VECTOR));
            tally.add(r);
            if (!r.ok()) {
                fail(r.describe("case " + c.name() + " on backend '" + id + "' vs the reference"));
            }
            tally.outcome(TckSummary.Outcome.PASS);
        } catch (TestAbortedException e) {
            throw e;
        } catch (AssertionError | RuntimeException e) {
            tally.outcome(TckSummary.Outcome.FAIL);
            throw e;
        }
    }

    @TestFactory
    Stream<DynamicTest> badInputsAreRejectedWithInvalidInputException() {
        TckCase c = TckCases.byName("s2-full-b5-beam3");
        return BadInputs.checks(c).stream().map(check -> DynamicTest.dynamicTest(check.name(), () -> {
            String problem;
            try (Executable ex = Runtime.prepare(backend, c.plan())) {
                problem = BadInputs.run(check, ex);
            }
            tally.badInput(problem == null);
            if (problem != null) {
                fail("backend '" + id + "': " + problem);
            }
        }));
    }
}
