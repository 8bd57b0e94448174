package dev.mue.importer.pickle;

/** A value the pickle opcode {@code BUILD} may give state to (Python's {@code __setstate__}). */
public interface PyBuildable {
    /**
     * Applies the pickled state.
     *
     * @throws dev.mue.importer.CheckpointFormatException if the state is not of the expected form
     */
    void build(Object state);
}
