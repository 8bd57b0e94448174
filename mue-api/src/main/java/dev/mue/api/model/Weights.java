package dev.mue.api.model;

import dev.mue.api.WeightMismatchException;
import dev.mue.api.tensor.FloatTensor;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An immutable set of named float32 tensors: a model's parameters after loading.
 */
public final class Weights {
    private final Map<String, FloatTensor> tensors;

    /** Wraps the given tensors; names must be unique. */
    public Weights(Collection<FloatTensor> tensors) {
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        for (FloatTensor t : tensors) {
            if (m.put(t.name(), t) != null) {
                throw new IllegalArgumentException("duplicate tensor " + t.name());
            }
        }
        this.tensors = Collections.unmodifiableMap(m);
    }

    /** The tensor named {@code name}. @throws WeightMismatchException when absent */
    public FloatTensor get(String name) {
        FloatTensor t = tensors.get(name);
        if (t == null) {
            throw new WeightMismatchException(List.of("missing tensor " + name));
        }
        return t;
    }

    /** The data of tensor {@code name}. */
    public float[] data(String name) {
        return get(name).data();
    }

    /** Whether a tensor of that name exists. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** Every tensor name, in load order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** Every tensor, in load order. */
    public Collection<FloatTensor> all() {
        return tensors.values();
    }

    /** Total number of parameters. */
    public long parameterCount() {
        long n = 0;
        for (FloatTensor t : tensors.values()) {
            n += t.size();
        }
        return n;
    }
}
