package dev.mue.tck.suite;

import static org.junit.jupiter.api.Assertions.fail;

import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.Backends;
import dev.mue.api.spi.Capabilities;
import dev.mue.tck.cases.TckCase;
import dev.mue.tck.cases.TckCases;
import dev.mue.tck.check.CaseRun;
import dev.mue.tck.check.CaseRunner;
import dev.mue.tck.check.Comparison;
import dev.mue.tck.check.ReferenceRun;
import dev.mue.tck.check.Report;
import dev.mue.tck.check.Tolerances;
import dev.mue.tck.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every available backend, and the reference, on the same cases and compares each pair
 * (design §7): the same decisions wherever the reference's margin allows, outputs within
 * {@link Tolerances#VECTOR} of the reference and {@link Tolerances#VECTOR_BETWEEN_BACKENDS} of each
 * other. A case a backend declares unsupported is skipped for the pairs it is in.
 *
 * <p>Runs are shared with {@link BackendConformanceTest} through {@link CaseRunner}'s cache, so a
 * backend runs each case once per JVM.
 */
class CrossBackendTest {
    private static final Map<String, Backend> BACKENDS = new LinkedHashMap<>();
    private static final Map<String, Capabilities> CAPABILITIES = new LinkedHashMap<>();
    private static TckSummary.Tally tally;

    @BeforeAll
    static void open() {
        BACKENDS.put(ReferenceBackend.ID, new ReferenceBackend());
        CAPABILITIES.put(ReferenceBackend.ID, ReferenceBackend.capabilities());
        for (Backends.ProviderStatus s : Backends.statuses()) {
            if (s.availability().available()) {
                BACKENDS.put(s.provider().id(), s.provider().create(BackendOptions.defaults()));
                CAPABILITIES.put(s.provider().id(), s.provider().capabilities());
            }
        }
        tally = TckSummary.of("cross " + String.join("~", BACKENDS.keySet()));
        if (BACKENDS.size() < 2) {
            tally.note("skipped: no backend available besides the reference");
            Assumptions.abort("skipped: no backend available besides the reference");
        }
    }

    @AfterAll
    static void close() {
        BACKENDS.values().forEach(Backend::close);
        BACKENDS.clear();
        CAPABILITIES.clear();
        if (!TckSummary.listenerActive()) {
            TckSummary.print(System.out);
        }
    }

    @TestFactory
    Stream<DynamicNode> everyPairAgreesOnEveryCase() {
        List<String> ids = new ArrayList<>(BACKENDS.keySet());
        List<DynamicNode> pairs = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            for (int j = i + 1; j < ids.size(); j++) {
                String a = ids.get(i);
                String b = ids.get(j);
                pairs.add(DynamicContainer.dynamicContainer(a + " vs " + b, TckCases.all().stream()
                        .map(c -> DynamicTest.dynamicTest(c.name(), () -> pair(a, b, c)))));
            }
        }
        return pairs.stream();
    }

    private static CaseRun run(String id, TckCase c) {
        return id.equals(ReferenceBackend.ID) ? CaseRunner.reference(c).run() : CaseRunner.backend(BACKENDS.get(id), c);
    }

    private static void pair(String a, String b, TckCase c) {
        for (String id : List.of(a, b)) {
            String gap = BackendConformanceTest.gap(CAPABILITIES.get(id), c.policy());
            if (gap != null) {
                tally.outcome(TckSummary.Outcome.UNSUPPORTED);
                Assumptions.abort(gap + " (backend '" + id + "')");
            }
        }
        try {
            ReferenceRun ref = CaseRunner.reference(c);
            boolean withReference = a.equals(ReferenceBackend.ID) || b.equals(ReferenceBackend.ID);
            Report r = Comparison.compare(ref, run(a, c), run(b, c),
                    withReference ? Tolerances.VECTOR : Tolerances.VECTOR_BETWEEN_BACKENDS);
            tally.add(r);
            if (!r.ok()) {
                fail(r.describe("case " + c.name() + ": " + a + " vs " + b));
            }
            tally.outcome(TckSummary.Outcome.PASS);
        } catch (AssertionError | RuntimeException e) {
            tally.outcome(TckSummary.Outcome.FAIL);
            throw e;
        }
    }
}
