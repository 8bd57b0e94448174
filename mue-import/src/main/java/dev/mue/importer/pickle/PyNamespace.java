package dev.mue.importer.pickle;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Python {@code argparse.Namespace}: named attributes, as fairseq stores a run's arguments
 * ({@code args}, or OFA's {@code cfg["model"]} and {@code cfg["task"]}).
 */
public final class PyNamespace implements PyBuildable {
    private final Map<String, Object> attributes = new LinkedHashMap<>();

    /** An empty namespace. */
    public PyNamespace() {
    }

    /** Every attribute, in pickled order; read-only. */
    public Map<String, Object> attributes() {
        return Collections.unmodifiableMap(attributes);
    }

    /** The attribute {@code name}, or null when absent (or None). */
    public Object get(String name) {
        return attributes.get(name);
    }

    @Override
    public void build(Object state) {
        if (!(state instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("Namespace state must be a dict");
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw new IllegalArgumentException("Namespace attribute names must be strings");
            }
            attributes.put(k, e.getValue());
        }
    }

    @Override
    public String toString() {
        return "Namespace[" + attributes.size() + " attributes]";
    }
}
