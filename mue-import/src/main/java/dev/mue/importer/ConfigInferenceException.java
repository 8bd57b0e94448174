package dev.mue.importer;

import dev.mue.api.MueException;

/**
 * The architecture cannot be inferred from a checkpoint: a fact is in neither the tensors nor the
 * stored arguments, or two sources disagree. The message names the fact and the flag that supplies
 * it.
 */
public class ConfigInferenceException extends MueException {
    private static final long serialVersionUID = 1L;
    private final String fact;
    private final String flag;

    /**
     * Creates the exception.
     *
     * @param fact the config fact, e.g. {@code image_size}
     * @param flag the {@code mue import} flag that supplies it, e.g. {@code --image-size}, or null
     */
    public ConfigInferenceException(String message, String fact, String flag) {
        super(message);
        this.fact = fact;
        this.flag = flag;
    }

    /** The fact that could not be settled, e.g. {@code image_size}. */
    public String fact() {
        return fact;
    }

    /** The flag that supplies the fact, e.g. {@code --image-size}; null when no flag can. */
    public String flag() {
        return flag;
    }
}
