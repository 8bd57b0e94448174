package dev.mue.importer.pickle;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Python {@code collections.OrderedDict}: insertion-ordered entries, plus the instance attributes
 * a {@code BUILD} gives it (a PyTorch state dict carries {@code _metadata} there).
 */
public final class PyDict extends LinkedHashMap<Object, Object> implements PyBuildable {
    private static final long serialVersionUID = 1L;
    @SuppressWarnings("serial") // never serialised; LinkedHashMap's Serializable is inherited, not used
    private final Map<Object, Object> attributes = new LinkedHashMap<>();

    /** An empty dict. */
    public PyDict() {
        super();
    }

    /** The instance attributes set by {@code BUILD}, e.g. {@code _metadata}; read-only. */
    public Map<Object, Object> attributes() {
        return Collections.unmodifiableMap(attributes);
    }

    @Override
    public void build(Object state) {
        if (!(state instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("OrderedDict state must be a dict");
        }
        attributes.putAll(m);
    }

    // Identity semantics: a dict is never a key, and content hashing could recurse into itself.
    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return "OrderedDict[" + size() + " entries]";
    }
}
