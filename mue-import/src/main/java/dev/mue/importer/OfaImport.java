package dev.mue.importer;

import dev.mue.api.ModelFormatException;
import dev.mue.api.WeightMismatchException;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.WeightLayout;
import dev.mue.api.model.Weights;
import dev.mue.api.tensor.FloatTensor;
import dev.mue.api.text.Vocabulary;
import dev.mue.importer.ofa.CheckpointContents;
import dev.mue.importer.ofa.ConfigInference;
import dev.mue.importer.ofa.OfaDictionary;
import dev.mue.importer.ofa.OfaKeys;
import dev.mue.importer.torch.TensorRef;
import dev.mue.importer.torch.TorchCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Imports an OFA checkpoint into a mue bundle.
 *
 * <pre>{@code
 * ImportReport r = OfaImport.importCheckpoint(Path.of("caption_base_best.pt"), Path.of("dict.txt"),
 *         Path.of("ofa-base-caption"), ImportOptions.defaults());
 * r.lines().forEach(System.out::println);
 * }</pre>
 *
 * <p>Steps, each failing with a typed error that names the file and key: unpickle the checkpoint
 * through the allow-list ({@link TorchCheckpoint}); find the state dict and stored arguments
 * ({@link CheckpointContents}); drop a model-level prefix and map the Hugging Face port's names to
 * fairseq's ({@link OfaKeys}); set aside the image-code-only parameters and recomputable buffers;
 * infer the config ({@link ConfigInference}) and give it OFA's conventions; check every key and
 * shape against {@link WeightLayout#expected} and the tied embeddings for equality; build OFA's
 * dictionary and check its size against the embedding; read the tensors as float32 and write the
 * bundle into a temporary sibling directory that then replaces the output.
 */
public final class OfaImport {
    private static final List<String> TIED_TO = List.of("decoder.embed_tokens.weight", "decoder.output_projection.weight");
    private static final String EMBEDDING = "encoder.embed_tokens.weight";

    private OfaImport() {
    }

    /**
     * Imports {@code checkpoint} with OFA's {@code dictTxt} into the bundle directory {@code outDir}.
     *
     * @throws UnsafePickleException     if a pickle names a global or opcode outside the allow-list
     * @throws CheckpointFormatException if the checkpoint is malformed, truncated or out of bounds
     * @throws ConfigInferenceException  if a config fact cannot be inferred (the message names the flag)
     * @throws WeightMismatchException   listing every missing, unknown or mis-shaped key
     * @throws ModelFormatException      if the dictionary is malformed or does not fit the embedding
     * @throws IllegalArgumentException  if {@code outDir} is a file, or not empty without {@code force}
     * @throws UncheckedIOException      if the bundle cannot be written
     */
    public static ImportReport importCheckpoint(Path checkpoint, Path dictTxt, Path outDir, ImportOptions options) {
        checkOutDir(outDir, options.force());
        try (TorchCheckpoint ck = TorchCheckpoint.open(checkpoint)) {
            CheckpointContents contents = CheckpointContents.of(ck.root(), checkpoint);
            String prefix = commonPrefix(contents.tensors().keySet());
            Map<String, TensorRef> all = new LinkedHashMap<>();
            boolean hf = false;
            for (Map.Entry<String, TensorRef> e : contents.tensors().entrySet()) {
                String original = e.getKey().substring(prefix.length());
                String name = OfaKeys.toFairseq(original);
                hf |= !name.equals(original);
                if (all.put(name, e.getValue()) != null) {
                    throw new CheckpointFormatException(checkpoint + ": two keys map to " + name
                            + " (fairseq and Hugging Face names mixed?)");
                }
            }
            String promoted = null;
            if (!all.containsKey(EMBEDDING)) {
                // A state dict saved with its tied duplicates removed may keep only the decoder's name.
                for (String k : TIED_TO) {
                    if (all.containsKey(k)) {
                        all.put(EMBEDDING, all.remove(k));
                        promoted = k;
                        break;
                    }
                }
            }
            Map<String, TensorRef> weights = new LinkedHashMap<>();
            Map<String, TensorRef> tied = new LinkedHashMap<>();
            List<String> imageCodeOnly = new ArrayList<>();
            List<String> buffers = new ArrayList<>();
            for (Map.Entry<String, TensorRef> e : all.entrySet()) {
                switch (OfaKeys.classify(e.getKey())) {
                    case WEIGHT -> weights.put(e.getKey(), e.getValue());
                    case TIED -> tied.put(e.getKey(), e.getValue());
                    case IMAGE_CODE_ONLY -> imageCodeOnly.add(e.getKey());
                    case BUFFER -> buffers.add(e.getKey());
                }
            }
            Map<String, int[]> shapes = new LinkedHashMap<>();
            weights.forEach((k, t) -> shapes.put(k, t.shape()));
            ConfigInference.Result inferred = ConfigInference.infer(checkpoint, shapes, contents.arguments(), options);
            // The one place an imported model gets OFA's conventions (design §10.3): token buckets over
            // 1024 positions, Pillow's 8-bit resize, OFA's text normalisation, bos not banned.
            ModelConfig config = inferred.config().withConventions(ModelConfig.Conventions.OFA);

            checkLayout(checkpoint, config, weights);
            List<String> tiedChecked = checkTied(ck, checkpoint, weights.get(EMBEDDING), tied);
            if (promoted != null) {
                tiedChecked.add(0, promoted + " (the only copy; stored as " + EMBEDDING + ")");
            }

            int codes = intArg(contents, "code_dict_size", OfaDictionary.CODE_DICT_SIZE);
            int bins = intArg(contents, "num_bins", OfaDictionary.NUM_BINS);
            Vocabulary vocab = OfaDictionary.build(dictTxt, codes, bins);
            if (vocab.size() != config.vocabSize()) {
                throw new ModelFormatException("dictionary " + dictTxt + " gives " + vocab.size() + " entries (4 specials, "
                        + (vocab.size() - 5 - codes - bins) + " lines, <mask>, " + codes + " image codes, " + bins
                        + " location bins) but " + checkpoint + " has " + config.vocabSize() + " rows in " + EMBEDDING
                        + "; pass the dict.txt the model was trained with");
            }

            List<FloatTensor> tensors = new ArrayList<>();
            Map<String, Integer> storedTypes = new TreeMap<>();
            long parameters = 0;
            for (Map.Entry<String, int[]> e : WeightLayout.expected(config).entrySet()) {
                TensorRef ref = weights.get(e.getKey());
                float[] data = ck.readFloats(ref, e.getKey());
                tensors.add(new FloatTensor(e.getKey(), e.getValue(), data));
                storedTypes.merge(ref.storage().dtype().name(), 1, Integer::sum);
                parameters += data.length;
            }
            boolean removedPolicy = writeBundle(outDir, config, new Weights(tensors), vocab, options);
            return new ImportReport(checkpoint, ck.format(), contents.kind(), hf ? "Hugging Face" : "fairseq", prefix,
                    config, inferred.facts(), imageCodeOnly, buffers, tiedChecked, storedTypes, tensors.size(), parameters,
                    vocab.size(), outDir, removedPolicy);
        }
    }

    /** A prefix every key shares ({@code model.}, {@code module.}, or both nested), else empty. */
    private static String commonPrefix(java.util.Set<String> keys) {
        String prefix = "";
        boolean changed = true;
        while (changed && !keys.isEmpty()) {
            changed = false;
            for (String p : OfaKeys.PREFIXES) {
                String candidate = prefix + p;
                if (keys.stream().allMatch(k -> k.startsWith(candidate))) {
                    prefix = candidate;
                    changed = true;
                }
            }
        }
        return prefix;
    }

    private static void checkLayout(Path file, ModelConfig config, Map<String, TensorRef> weights) {
        Map<String, int[]> expected = WeightLayout.expected(config);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            TensorRef t = weights.get(e.getKey());
            if (t == null) {
                problems.add(file + ": missing key " + e.getKey() + " " + Arrays.toString(e.getValue()));
            } else if (!Arrays.equals(t.shape(), e.getValue())) {
                problems.add(file + ": key " + e.getKey() + " has shape " + Arrays.toString(t.shape()) + ", expected "
                        + Arrays.toString(e.getValue()));
            }
        }
        for (String k : weights.keySet()) {
            if (!expected.containsKey(k)) {
                problems.add(file + ": unknown key " + k);
            }
        }
        if (!problems.isEmpty()) {
            throw new WeightMismatchException(problems);
        }
    }

    private static List<String> checkTied(TorchCheckpoint ck, Path file, TensorRef embedding, Map<String, TensorRef> tied) {
        List<String> checked = new ArrayList<>();
        float[] values = null;
        for (String k : TIED_TO) {
            TensorRef t = tied.get(k);
            if (t == null) {
                continue;
            }
            if (!Arrays.equals(t.shape(), embedding.shape())) {
                throw new WeightMismatchException(List.of(file + ": tied key " + k + " has shape "
                        + Arrays.toString(t.shape()) + " but " + EMBEDDING + " has " + Arrays.toString(embedding.shape())));
            }
            if (!t.sameView(embedding)) {
                // Separate copies (an F16 save, or a state dict built by hand): compare the values.
                if (values == null) {
                    values = ck.readFloats(embedding, EMBEDDING);
                }
                if (!Arrays.equals(values, ck.readFloats(t, k))) {
                    throw new WeightMismatchException(List.of(file + ": " + k + " differs from " + EMBEDDING
                            + "; mue ties the decoder's embedding and output projection to it, as OFA does"));
                }
            }
            checked.add(k);
        }
        return checked;
    }

    private static int intArg(CheckpointContents c, String name, int dflt) {
        for (CheckpointContents.Arguments a : c.arguments()) {
            if (a.values().get(name) instanceof Integer i) {
                return i;
            }
        }
        return dflt;
    }

    private static void checkOutDir(Path outDir, boolean force) {
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new IllegalArgumentException("cannot write the bundle: " + outDir + " exists and is not a directory");
        }
        if (!force && Files.isDirectory(outDir)) {
            try (Stream<Path> entries = Files.list(outDir)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException(outDir + " is not empty; pass --force to overwrite");
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + outDir, e);
            }
        }
    }

    /**
     * Writes the bundle into a temporary sibling, then moves it into place: the output directory
     * never holds a half-written bundle. Returns whether a stale policy.json was removed.
     */
    private static boolean writeBundle(Path outDir, ModelConfig config, Weights weights, Vocabulary vocab,
            ImportOptions options) {
        Path abs = outDir.toAbsolutePath();
        Path tmp = null;
        try {
            Files.createDirectories(abs.getParent());
            tmp = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".import-");
            ModelBundle.write(tmp, config, weights, vocab, options.dtype());
            boolean removedPolicy = false;
            if (!Files.exists(abs)) {
                moveAtomically(tmp, abs);
                tmp = null;
            } else {
                for (String f : List.of(ModelBundle.CONFIG, ModelBundle.VOCABULARY, ModelBundle.WEIGHTS,
                        ModelBundle.CHECKSUM)) {
                    moveAtomically(tmp.resolve(f), abs.resolve(f));
                }
                // A replaced bundle's policies were calibrated for another model; keeping them would
                // silently apply them to this one.
                removedPolicy = Files.deleteIfExists(abs.resolve(ModelBundle.POLICY));
            }
            return removedPolicy;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the bundle " + outDir + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                deleteTree(tmp);
            }
        }
    }

    private static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            // Some file systems cannot rename atomically; a plain replace is the best they offer.
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // A leftover temporary directory (a dot-file) is harmless; the import's own outcome stands.
        }
    }
}
