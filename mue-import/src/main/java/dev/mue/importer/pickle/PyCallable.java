package dev.mue.importer.pickle;

/**
 * An allow-listed Python callable, applied by the pickle opcodes {@code REDUCE} and {@code NEWOBJ}.
 * Implementations build plain Java values; none runs anything named by the file.
 */
@FunctionalInterface
public interface PyCallable {
    /**
     * Applies the callable to the pickled arguments.
     *
     * @param args the argument tuple
     * @throws dev.mue.importer.CheckpointFormatException if the arguments are not what the callable takes
     */
    Object call(Object[] args);
}
