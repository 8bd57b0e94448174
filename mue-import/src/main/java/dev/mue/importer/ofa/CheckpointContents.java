package dev.mue.importer.ofa;

import dev.mue.importer.CheckpointFormatException;
import dev.mue.importer.pickle.PyNamespace;
import dev.mue.importer.torch.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an unpickled checkpoint holds for the importer: the state dict and the stored arguments.
 *
 * <p>A fairseq checkpoint is a dict with the state dict under {@code model} and the run's arguments
 * under {@code args} (an {@code argparse.Namespace}; older saves) or {@code cfg} (newer: OFA's
 * trainer saves {@code args: None} and a {@code cfg} dict whose {@code model} and {@code task} are
 * namespaces or dicts). A Hugging Face {@code pytorch_model.bin} is the state dict itself.
 *
 * @param kind      {@code fairseq} or {@code state dict}
 * @param tensors   key to tensor, in the file's order
 * @param arguments stored argument sets, most specific first, each with its label
 *                  ({@code cfg.model}, {@code cfg.task}, {@code args})
 */
public record CheckpointContents(String kind, Map<String, TensorRef> tensors, List<Arguments> arguments) {

    /**
     * One set of stored arguments.
     *
     * @param label  where they came from, e.g. {@code cfg.model}
     * @param values name to value (ints, floats, strings, booleans, lists, None)
     */
    public record Arguments(String label, Map<String, Object> values) {
    }

    /** Copies the collections. */
    public CheckpointContents {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        arguments = List.copyOf(arguments);
    }

    /**
     * Interprets an unpickled checkpoint.
     *
     * @throws CheckpointFormatException if it holds neither a fairseq checkpoint nor a state dict, or
     *                                   a state dict entry is not a tensor
     */
    public static CheckpointContents of(Object root, Path file) {
        if (!(root instanceof Map<?, ?> top)) {
            throw new CheckpointFormatException(file + ": holds a " + typeName(root)
                    + ", not a checkpoint dict or a state dict");
        }
        if (top.get("model") instanceof Map<?, ?> model) {
            List<Arguments> args = new ArrayList<>();
            if (top.get("cfg") instanceof Map<?, ?> cfg) {
                addArguments(args, "cfg.model", cfg.get("model"));
                addArguments(args, "cfg.task", cfg.get("task"));
            } else if (top.get("cfg") != null) {
                throw new CheckpointFormatException(file + ": 'cfg' is a " + typeName(top.get("cfg")) + ", not a dict");
            }
            addArguments(args, "args", top.get("args"));
            return new CheckpointContents("fairseq", stateDict(model, file, "model."), args);
        }
        if (!top.isEmpty() && top.values().stream().allMatch(v -> v instanceof TensorRef)) {
            return new CheckpointContents("state dict", stateDict(top, file, ""), List.of());
        }
        throw new CheckpointFormatException(file + ": holds neither a fairseq checkpoint (a dict with a 'model'"
                + " state dict) nor a state dict of tensors");
    }

    private static void addArguments(List<Arguments> out, String label, Object o) {
        Map<String, Object> values = new LinkedHashMap<>();
        if (o instanceof PyNamespace ns) {
            values.putAll(ns.attributes());
        } else if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if (k instanceof String s) {
                    values.put(s, v);
                }
            });
        } else {
            return; // None (OFA's args) or absent
        }
        out.add(new Arguments(label, values));
    }

    private static Map<String, TensorRef> stateDict(Map<?, ?> m, Path file, String where) {
        Map<String, TensorRef> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw new CheckpointFormatException(file + ": state dict key " + e.getKey() + " is not a string");
            }
            if (!(e.getValue() instanceof TensorRef t)) {
                throw new CheckpointFormatException(file + ": state dict entry " + where + k + " is a "
                        + typeName(e.getValue()) + ", not a tensor");
            }
            out.put(k, t);
        }
        return out;
    }

    private static String typeName(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }
}
