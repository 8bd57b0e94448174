package dev.mue.api.exit;

import dev.mue.api.InvalidInputException;
import dev.mue.api.plan.Stream;
import dev.mue.api.spi.ServiceProviders;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exit criteria known to this JVM: the built-in ones, then those found with {@link
 * ServiceLoader} (loaded once). Two criteria with one id, or an id that is not well formed, are
 * refused; a provider that fails to load is logged and skipped.
 */
public final class ExitCriteria {
    /** What an id looks like. */
    public static final Pattern ID = Pattern.compile("[a-z][a-z0-9-]{0,31}");

    private static final Logger LOG = LoggerFactory.getLogger(ExitCriteria.class);
    private static volatile Map<String, ExitCriterion> all;

    private ExitCriteria() {
    }

    /** Every known criterion by id, built-in ones first. */
    public static Map<String, ExitCriterion> all() {
        Map<String, ExitCriterion> m = all;
        if (m == null) {
            synchronized (ExitCriteria.class) {
                if (all == null) {
                    all = load();
                }
                m = all;
            }
        }
        return m;
    }

    private static Map<String, ExitCriterion> load() {
        List<ExitCriterion> found = new ArrayList<>(List.of(new CosineCriterion(), new SoftmaxConfidenceCriterion()));
        found.addAll(ServiceProviders.load(ExitCriterion.class, LOG, "exit criterion"));
        return index(found);
    }

    /** Indexes criteria by id, refusing malformed and duplicate ids. */
    static Map<String, ExitCriterion> index(List<ExitCriterion> criteria) {
        Map<String, ExitCriterion> m = new LinkedHashMap<>();
        for (ExitCriterion c : criteria) {
            String id = c.id();
            if (id == null || !ID.matcher(id).matches()) {
                throw new IllegalStateException("exit criterion " + c.getClass().getName() + " has the id '" + id
                        + "'; ids are lower-case letters, digits and dashes, at most 32");
            }
            ExitCriterion old = m.putIfAbsent(id, c);
            if (old != null) {
                throw new IllegalStateException("two exit criteria have the id '" + id + "': "
                        + old.getClass().getName() + " and " + c.getClass().getName());
            }
        }
        return Map.copyOf(m);
    }

    /**
     * The criterion {@code id} for gates of {@code stream}.
     *
     * @throws InvalidInputException when no criterion has that id, or it does not apply to the stream
     */
    public static ExitCriterion require(String id, Stream stream) {
        ExitCriterion c = all().get(id);
        if (c == null) {
            throw new InvalidInputException("unknown exit criterion '" + id + "'; known: "
                    + String.join(", ", all().keySet().stream().sorted().toList()));
        }
        if (!c.appliesTo(stream)) {
            throw new InvalidInputException("exit criterion '" + id + "' does not apply to " + stream.label()
                    + " gates");
        }
        return c;
    }
}
