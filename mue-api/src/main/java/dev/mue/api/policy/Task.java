package dev.mue.api.policy;

import java.util.Locale;

/**
 * The tasks a session serves, each of which may have its own exit policy: captioning (beam search,
 * a threshold per decoding step) and visual entailment (one scoring pass, a fixed decoder
 * threshold). Their exits cost quality differently, so a calibrated policy is per task.
 */
public enum Task {
    /** Captioning, and prompted generation in general. */
    CAPTION("caption"),
    /** Visual entailment (the CLI's {@code --task ve}). */
    ENTAIL("entail");

    private final String key;

    Task(String key) {
        this.key = key;
    }

    /** The key of this task in {@code policy.json}: {@code caption} or {@code entail}. */
    public String key() {
        return key;
    }

    /** Parses {@code caption}, {@code entail} or {@code ve} (the evaluation's name for entailment). */
    public static Task parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "caption" -> CAPTION;
            case "entail", "ve" -> ENTAIL;
            default -> throw new IllegalArgumentException("task must be ve (entail) or caption, got '" + name + "'");
        };
    }
}
