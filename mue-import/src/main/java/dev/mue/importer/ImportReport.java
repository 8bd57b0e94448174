package dev.mue.importer;

import dev.mue.api.model.ModelConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@link OfaImport} did: the file's format and naming, the config and where each fact came
 * from, the keys it skipped and why, the checks it made, and what it wrote.
 *
 * @param checkpoint      the file read
 * @param format          PyTorch container: {@code zip} or {@code legacy}
 * @param kind            {@code fairseq} checkpoint or plain {@code state dict}
 * @param naming          key names found: {@code fairseq} or {@code Hugging Face}
 * @param strippedPrefix  a model-level key prefix removed (e.g. {@code model.}), or empty
 * @param config          the bundle's config
 * @param facts           every config fact and its source
 * @param imageCodeOnly   keys used only for image-code generation, skipped
 * @param buffers         recomputable buffers, skipped
 * @param tied            tied keys checked equal to {@code encoder.embed_tokens.weight} and dropped
 * @param storedTypes     tensors written, by the type they were stored in (e.g. {@code F16=180})
 * @param tensors         tensors written
 * @param parameters      parameters written
 * @param vocabularySize  entries of the bundle's dictionary (checked against the embedding)
 * @param outDir          the bundle directory
 * @param removedPolicy   whether a stale {@code policy.json} was removed from a replaced bundle
 */
public record ImportReport(Path checkpoint, String format, String kind, String naming, String strippedPrefix,
        ModelConfig config, List<ConfigFact> facts, List<String> imageCodeOnly, List<String> buffers, List<String> tied,
        Map<String, Integer> storedTypes, int tensors, long parameters, int vocabularySize, Path outDir,
        boolean removedPolicy) {

    /** Copies the collections. */
    public ImportReport {
        facts = List.copyOf(facts);
        imageCodeOnly = List.copyOf(imageCodeOnly);
        buffers = List.copyOf(buffers);
        tied = List.copyOf(tied);
        storedTypes = Map.copyOf(storedTypes);
    }

    /** The report as text lines, for a terminal. */
    public List<String> lines() {
        List<String> l = new ArrayList<>();
        l.add(String.format(Locale.ROOT, "imported %s: PyTorch %s format, %s with %s key names%s", checkpoint, format,
                kind, naming, strippedPrefix.isEmpty() ? "" : " (prefix '" + strippedPrefix + "' removed)"));
        l.add("config " + config.name() + ":");
        for (ConfigFact f : facts) {
            l.add(String.format(Locale.ROOT, "  %-18s %-28s from %s", f.name(), f.value(), f.source()));
        }
        l.add("  conventions        OFA (token buckets over " + config.conventions().tokenBucketPositions()
                + " positions, " + config.conventions().imageResize() + " resize, " + config.conventions().textNormalization()
                + " text normalisation, bos " + (config.conventions().banBosInGeneration() ? "banned" : "allowed")
                + " in generation)");
        l.add(String.format(Locale.ROOT, "skipped %d image-code-generation-only key(s): %s", imageCodeOnly.size(),
                abbreviate(imageCodeOnly)));
        l.add(String.format(Locale.ROOT, "skipped %d recomputable buffer(s): %s", buffers.size(), abbreviate(buffers)));
        l.add(tied.isEmpty() ? "tied: decoder embedding and output projection absent (mue ties them to encoder.embed_tokens.weight)"
                : "tied: " + String.join(", ", tied) + " equal encoder.embed_tokens.weight; stored once");
        l.add(String.format(Locale.ROOT, "checked: every key of mue's layout present with its shape, no unknown key,"
                + " dictionary of %,d entries = embedding rows", vocabularySize));
        l.add(String.format(Locale.ROOT, "wrote %s: %,d tensors (stored as %s), %,d parameters in %s%s", outDir, tensors,
                new java.util.TreeMap<>(storedTypes), parameters, "config.json, model.safetensors, dict.txt",
                removedPolicy ? "; removed the replaced bundle's policy.json (calibrated for another model)" : ""));
        return l;
    }

    private static String abbreviate(List<String> keys) {
        if (keys.size() <= 6) {
            return String.join(", ", keys);
        }
        return String.join(", ", keys.subList(0, 6)) + ", ... (" + (keys.size() - 6) + " more)";
    }
}
