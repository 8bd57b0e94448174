package dev.mue.serve.protocol;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed OIP inference request.
 *
 * @param id         the request's {@code id}, or null
 * @param parameters its {@code parameters} (strings, numbers, booleans), in request order
 * @param inputs     its inputs, in request order
 * @param outputs    the outputs it asked for; empty means all of the model's
 */
public record InferRequest(String id, Map<String, Object> parameters, List<InputTensor> inputs,
        List<RequestedOutput> outputs) {
    /** Copies the collections, keeping their order. */
    public InferRequest {
        parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** The input called {@code name}, if given. */
    public Optional<InputTensor> input(String name) {
        return inputs.stream().filter(i -> i.name().equals(name)).findFirst();
    }
}
