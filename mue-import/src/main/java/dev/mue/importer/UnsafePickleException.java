package dev.mue.importer;

/**
 * A checkpoint's pickle asks for a Python global or an opcode outside the importer's allow-list.
 *
 * <p>It is raised the moment the global is named, before any object is built from it; nothing in
 * the file is executed, whatever it names ({@code posix.system}, {@code builtins.eval}, ...).
 */
public class UnsafePickleException extends CheckpointFormatException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message names the file and the refused global or opcode. */
    public UnsafePickleException(String message) {
        super(message);
    }
}
