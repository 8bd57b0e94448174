package dev.mue.api.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.BackendUnavailableException;
import dev.mue.api.plan.Plan;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.KvPolicy;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BackendsTest {

    /** A provider whose behaviour the test scripts: these are the selection rules' inputs. */
    private record Scripted(String id, int priority, Availability availability, boolean brokenId, CostModel costModel)
            implements BackendProvider {
        Scripted(String id, int priority, Availability availability, boolean brokenId) {
            this(id, priority, availability, brokenId, null);
        }

        @Override
        public String id() {
            if (brokenId) {
                throw new IllegalStateException("broken provider");
            }
            return id;
        }

        @Override
        public Capabilities capabilities() {
            return new Capabilities(List.of("cpu"), "float32", false, false, EnumSet.allOf(KvPolicy.class),
                    EnumSet.allOf(EncoderMode.class));
        }

        @Override
        public Backend create(BackendOptions options) {
            return new Backend() {
                @Override
                public String id() {
                    return id;
                }

                @Override
                public String device() {
                    return "cpu";
                }

                @Override
                public Prepared prepare(Plan plan) {
                    throw new UnsupportedOperationException("selection test backend prepares nothing");
                }

                @Override
                public void close() {
                }
            };
        }
    }

    private static Scripted ok(String id, int priority) {
        return new Scripted(id, priority, Availability.yes(), false);
    }

    @AfterEach
    void clearProperty() {
        System.clearProperty(Backends.PROPERTY);
    }

    private static Scripted timed(String id, int priority, double nodeMicros, double gflops) {
        return new Scripted(id, priority, Availability.yes(), false, new CostModel(nodeMicros, gflops, "test"));
    }

    @Test
    void withoutANamedBackendTheFastestEstimateForTheWorkloadWins() {
        // java: cheap dispatch, modest rate; tf: costly dispatch, high rate; torch: unavailable.
        List<BackendProvider> ps = Backends.validated(List.of(timed("java", 10, 125, 58), timed("tf", 5, 630, 100),
                new Scripted("torch", 50, Availability.no("no natives"), false, new CostModel(1, 1000, "test"))));
        CostModel.Workload small = new CostModel.Workload("a small caption", 250, 400_000_000L);
        CostModel.Workload large = new CostModel.Workload("a large caption", 250, 180_000_000_000L);
        assertEquals("java", Backends.choose(null, small, ps).id());
        assertEquals("tf", Backends.choose(null, large, ps).id());
        assertEquals("java", Backends.choose("java", large, ps).id(), "a named backend is never second-guessed");
        System.setProperty(Backends.PROPERTY, "java");
        assertEquals("java", Backends.choose(null, large, ps).id(), "nor one named by the property");
    }

    @Test
    void providersWithoutACostModelRankAfterThoseWithOneAndAloneByPriority() {
        List<BackendProvider> ps = Backends.validated(List.of(ok("fast", 99), timed("java", 10, 125, 58)));
        CostModel.Workload w = new CostModel.Workload("a caption", 250, 400_000_000L);
        assertEquals("java", Backends.choose(null, w, ps).id());
        assertEquals("fast", Backends.choose(null, w, Backends.validated(List.of(ok("fast", 99), ok("slow", 1)))).id());
        assertEquals("fast", Backends.choose(null, null, ps).id(), "no workload: priority");
        assertEquals(250 * 125e-6 + 400_000_000L / 58e9, new CostModel(125, 58, "t").seconds(w), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new CostModel(-1, 58, "t"));
        assertThrows(IllegalArgumentException.class, () -> new CostModel(1, 0, "t"));
    }

    @Test
    void highestPriorityAvailableWins() {
        List<BackendProvider> ps = Backends.validated(List.of(ok("java", 10),
                new Scripted("torch", 50, Availability.no("no natives"), false), ok("tf", 30)));
        assertEquals("tf", Backends.choose(null, ps).id());
        assertEquals(List.of("torch", "tf", "java"), ps.stream().map(BackendProvider::id).toList());
    }

    @Test
    void explicitIdWinsAndUnknownIdListsKnownOnes() {
        List<BackendProvider> ps = Backends.validated(List.of(ok("java", 10), ok("tf", 30)));
        assertEquals("java", Backends.choose("java", ps).id());
        assertEquals("java", Backends.choose("JAVA", ps).id(), "ids are case-insensitive");
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.choose("cuda", ps));
        assertTrue(e.getMessage().contains("unknown backend 'cuda'") && e.getMessage().contains("[tf, java]"),
                e.getMessage());
    }

    @Test
    void systemPropertySelectsWhenNoIdIsGiven() {
        List<BackendProvider> ps = Backends.validated(List.of(ok("java", 10), ok("tf", 30)));
        System.setProperty(Backends.PROPERTY, "java");
        assertEquals("java", Backends.choose(null, ps).id());
        assertEquals("tf", Backends.choose("tf", ps).id(), "an explicit id beats the property");
    }

    @Test
    void unavailableNamedBackendSaysWhy() {
        List<BackendProvider> ps = Backends.validated(List.of(ok("java", 10),
                new Scripted("torch", 50, Availability.no("libtorch not found"), false)));
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.choose("torch", ps));
        assertTrue(e.getMessage().contains("libtorch not found"), e.getMessage());
    }

    @Test
    void duplicateIdsFail() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.validated(List.of(ok("java", 10), ok("java", 20))));
        assertTrue(e.getMessage().contains("'java'"), e.getMessage());
    }

    @Test
    void brokenProviderIsSkipped() {
        List<BackendProvider> ps = Backends.validated(List.of(new Scripted("x", 99, Availability.yes(), true),
                ok("java", 10), ok("Bad Id", 5)));
        assertEquals(List.of("java"), ps.stream().map(BackendProvider::id).toList());
    }

    @Test
    void noneAvailableListsReasons() {
        List<BackendProvider> ps = Backends.validated(List.of(new Scripted("tf", 1, Availability.no("no TF natives"), false)));
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.choose(null, ps));
        assertTrue(e.getMessage().contains("no TF natives"), e.getMessage());
        e = assertThrows(BackendUnavailableException.class, () -> Backends.choose(null, List.of()));
        assertTrue(e.getMessage().contains("no backend provider found"), e.getMessage());
    }
}
