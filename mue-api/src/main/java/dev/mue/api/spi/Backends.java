package dev.mue.api.spi;

import dev.mue.api.BackendUnavailableException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds backend providers and selects one (design §6).
 *
 * <p>Selection: an explicit id (argument, then the {@code mue.backend} system property, then the
 * {@code MUE_BACKEND} environment variable); else, for a known workload, the available provider
 * whose {@link CostModel} estimates it fastest (providers without one rank after, by priority);
 * else the highest-priority available provider. An
 * unknown id fails listing the known ones; two providers with one id fail; a provider that breaks
 * while loading or answering is logged and skipped. The choice and its reason are logged.
 */
public final class Backends {
    /** System property naming the backend. */
    public static final String PROPERTY = "mue.backend";
    /** Environment variable naming the backend. */
    public static final String ENVIRONMENT = "MUE_BACKEND";

    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    /**
     * A provider's state as seen here.
     *
     * @param provider     the provider
     * @param availability whether it can be created, and why not
     */
    public record ProviderStatus(BackendProvider provider, Availability availability) {
    }

    /** Every provider found with {@link java.util.ServiceLoader}, broken ones skipped, sorted by descending priority. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> found = ServiceProviders.load(BackendProvider.class, LOG, "backend provider");
        return validated(found);
    }

    /** Checks the ids of {@code found}, drops providers whose {@code id()} throws, sorts by priority. */
    static List<BackendProvider> validated(List<BackendProvider> found) {
        Map<String, BackendProvider> byId = new HashMap<>();
        List<BackendProvider> ok = new ArrayList<>();
        for (BackendProvider p : found) {
            String id;
            try {
                id = p.id();
                p.priority();
            } catch (RuntimeException e) {
                LOG.warn("skipping backend provider {}: {}", p.getClass().getName(), e.toString());
                continue;
            }
            if (id == null || !id.matches("[a-z][a-z0-9-]*")) {
                LOG.warn("skipping backend provider {}: invalid id '{}'", p.getClass().getName(), id);
                continue;
            }
            BackendProvider prev = byId.putIfAbsent(id, p);
            if (prev != null) {
                throw new BackendUnavailableException("two backend providers share the id '" + id + "': "
                        + prev.getClass().getName() + " and " + p.getClass().getName());
            }
            ok.add(p);
        }
        ok.sort(Comparator.comparingInt(Backends::safePriority).reversed().thenComparing(BackendProvider::id));
        return List.copyOf(ok);
    }

    private static int safePriority(BackendProvider p) {
        return p.priority();
    }

    /** Every provider with its availability. */
    public static List<ProviderStatus> statuses() {
        return statuses(providers());
    }

    static List<ProviderStatus> statuses(List<BackendProvider> providers) {
        List<ProviderStatus> out = new ArrayList<>();
        for (BackendProvider p : providers) {
            out.add(new ProviderStatus(p, safeAvailability(p)));
        }
        return out;
    }

    private static Availability safeAvailability(BackendProvider p) {
        try {
            Availability a = p.availability();
            return a == null ? Availability.no("provider returned no availability") : a;
        } catch (RuntimeException | LinkageError e) {
            return Availability.no("availability check failed: " + e);
        }
    }

    /** The id requested by argument, system property or environment, or null for automatic selection. */
    public static String requestedId(String explicit) {
        if (explicit != null && !explicit.isBlank() && !explicit.equalsIgnoreCase("auto")) {
            return explicit.trim().toLowerCase(Locale.ROOT);
        }
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isBlank() && !prop.equalsIgnoreCase("auto")) {
            return prop.trim().toLowerCase(Locale.ROOT);
        }
        String env = System.getenv(ENVIRONMENT);
        if (env != null && !env.isBlank() && !env.equalsIgnoreCase("auto")) {
            return env.trim().toLowerCase(Locale.ROOT);
        }
        return null;
    }

    /**
     * Chooses a provider: {@code id} if given (or set by property or environment), else the
     * highest-priority available one.
     *
     * @throws BackendUnavailableException when the id is unknown (listing the known ones), the
     *         named backend is unavailable (with its reason), or none is available
     */
    public static BackendProvider choose(String id) {
        return choose(id, providers());
    }

    /**
     * Chooses a provider for {@code work}: an explicit id as {@link #choose(String)} does, else the
     * available provider its {@link CostModel} estimates fastest, the estimates logged; providers
     * without a cost model come after those with one, by priority.
     *
     * @throws BackendUnavailableException as {@link #choose(String)}
     */
    public static BackendProvider choose(String id, CostModel.Workload work) {
        return choose(id, work, providers());
    }

    static BackendProvider choose(String explicit, CostModel.Workload work, List<BackendProvider> providers) {
        if (work == null || requestedId(explicit) != null) {
            return choose(explicit, providers);
        }
        BackendProvider best = null;
        double bestSeconds = Double.POSITIVE_INFINITY;
        List<String> estimates = new ArrayList<>();
        for (ProviderStatus s : statuses(providers)) {
            CostModel m = safeCostModel(s.provider());
            if (!s.availability().available() || m == null) {
                continue;
            }
            double sec = m.seconds(work);
            estimates.add(String.format(Locale.ROOT, "%s %.1f ms", s.provider().id(), 1e3 * sec));
            if (sec < bestSeconds) {
                best = s.provider();
                bestSeconds = sec;
            }
        }
        if (best == null) {
            return choose(explicit, providers);
        }
        LOG.info("backend '{}' selected: estimated fastest for {} ({} nodes, {} GFLOP): {}", best.id(), work.what(),
                work.nodes(), String.format(Locale.ROOT, "%.2f", work.flops() / 1e9), String.join(", ", estimates));
        return best;
    }

    private static CostModel safeCostModel(BackendProvider p) {
        try {
            return p.costModel();
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("backend provider {}: cost model unavailable: {}", p.id(), e.toString());
            return null;
        }
    }

    static BackendProvider choose(String explicit, List<BackendProvider> providers) {
        String id = requestedId(explicit);
        List<ProviderStatus> all = statuses(providers);
        if (id != null) {
            for (ProviderStatus s : all) {
                if (s.provider().id().equals(id)) {
                    if (!s.availability().available()) {
                        throw new BackendUnavailableException("backend '" + id + "' is not available: "
                                + s.availability().reason());
                    }
                    LOG.info("backend '{}' selected: requested explicitly", id);
                    return s.provider();
                }
            }
            throw new BackendUnavailableException("unknown backend '" + id + "'; known backends: "
                    + all.stream().map(s -> s.provider().id()).toList());
        }
        for (ProviderStatus s : all) {
            if (s.availability().available()) {
                LOG.info("backend '{}' selected: highest priority ({}) of the available {}", s.provider().id(),
                        s.provider().priority(),
                        all.stream().filter(x -> x.availability().available()).map(x -> x.provider().id()).toList());
                return s.provider();
            }
        }
        throw new BackendUnavailableException(all.isEmpty()
                ? "no backend provider found: put mue-backend-java (or another backend) on the class or module path"
                : "no backend is available: " + all.stream()
                        .map(s -> s.provider().id() + " (" + s.availability().reason() + ")").toList());
    }

    /** Chooses a provider as {@link #choose(String)} does and creates the backend. */
    public static Backend create(String id, BackendOptions options) {
        return create(choose(id), options);
    }

    /** Chooses a provider for {@code work} as {@link #choose(String, CostModel.Workload)} does and creates the backend. */
    public static Backend create(String id, CostModel.Workload work, BackendOptions options) {
        return create(choose(id, work), options);
    }

    private static Backend create(BackendProvider p, BackendOptions options) {
        try {
            return p.create(options);
        } catch (BackendUnavailableException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new BackendUnavailableException("backend '" + p.id() + "' failed to start: " + e, e);
        }
    }
}
