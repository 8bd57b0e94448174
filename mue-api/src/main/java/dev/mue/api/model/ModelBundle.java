package dev.mue.api.model;

import dev.mue.api.ModelFormatException;
import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.safetensors.SafetensorsFile;
import dev.mue.api.safetensors.SafetensorsWriter;
import dev.mue.api.tensor.DType;
import dev.mue.api.tensor.FloatTensor;
import dev.mue.api.text.Vocabulary;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The on-disk form of a model: a directory with {@code config.json}, {@code model.safetensors}
 * and {@code dict.txt} (the fairseq-style vocabulary), and optionally {@code policy.json}, the
 * model's own exit policies per task ({@link PolicyFile}).
 *
 * <p>Loading never trusts the files: the config is validated, the safetensors header is
 * bounds-checked before any tensor is read, and the vocabulary must fit the embedding.
 */
public final class ModelBundle {
    /** File name of the architecture. */
    public static final String CONFIG = "config.json";
    /** File name of the weights. */
    public static final String WEIGHTS = "model.safetensors";
    /** File name of the vocabulary. */
    public static final String VOCABULARY = "dict.txt";

    private ModelBundle() {
    }

    /** File name of the optional exit policies. */
    public static final String POLICY = PolicyFile.NAME;
    /** The source label of a bundle's policies in traces and plans. */
    public static final String POLICY_SOURCE = "bundle " + PolicyFile.NAME;

    /**
     * Loads the bundle in {@code dir}; every defect is a {@link ModelFormatException} naming the
     * file (a defective {@code policy.json} a {@link dev.mue.api.PolicyFormatException}).
     */
    public static Model load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException("model bundle not found: " + dir + " is not a directory");
        }
        ModelConfig config = ConfigJson.read(dir.resolve(CONFIG));
        Path vocabFile = dir.resolve(VOCABULARY);
        if (!Files.isRegularFile(vocabFile)) {
            throw new ModelFormatException("vocabulary not found: " + vocabFile);
        }
        Vocabulary vocab = Vocabulary.read(vocabFile);
        Path weightsFile = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weightsFile)) {
            throw new ModelFormatException("weights not found: " + weightsFile);
        }
        List<FloatTensor> tensors = new ArrayList<>();
        try (SafetensorsFile st = SafetensorsFile.open(weightsFile)) {
            for (String name : st.names()) {
                tensors.add(st.readFloat(name));
            }
        }
        Path policyFile = dir.resolve(POLICY);
        ModelPolicies policies = Files.exists(policyFile) ? PolicyFile.read(policyFile, POLICY_SOURCE) : ModelPolicies.none();
        return new Model(config, new Weights(tensors), vocab, dir.toString(), policies, sha256(dir));
    }

    /**
     * Loads a bundle shipped as class-path resources under {@code resourceDir} (e.g.
     * {@code dev/mue/cli/default-model}). The files are copied to a temporary directory first so
     * that the weights go through the same memory-mapped, validated reader as any other bundle.
     */
    public static Model loadResource(ClassLoader loader, String resourceDir) {
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("mue-bundle");
            for (String f : List.of(CONFIG, WEIGHTS, VOCABULARY)) {
                try (InputStream in = loader.getResourceAsStream(resourceDir + "/" + f)) {
                    if (in == null) {
                        throw new ModelFormatException("bundled model resource missing: " + resourceDir + "/" + f);
                    }
                    Files.copy(in, tmp.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Model m = load(tmp);
            // policy.json is optional, as in a directory bundle; read in place so messages name the resource
            ModelPolicies policies = ModelPolicies.none();
            try (InputStream in = loader.getResourceAsStream(resourceDir + "/" + POLICY)) {
                if (in != null) {
                    policies = PolicyFile.parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8),
                            "classpath:" + resourceDir + "/" + POLICY, POLICY_SOURCE);
                }
            }
            return new Model(m.config(), m.weights(), m.vocabulary(), "classpath:" + resourceDir, policies, m.sha256());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack bundled model " + resourceDir, e);
        } finally {
            if (tmp != null) {
                deleteQuietly(tmp);
            }
        }
    }

    /**
     * SHA-256 of a bundle's model files, what a calibration certificate names the model by: for
     * each of {@code config.json}, {@code dict.txt} and {@code model.safetensors} in that order, its
     * name, its length (8 bytes, little-endian) and its bytes. {@code policy.json} is left out: a
     * certificate lives in it and names the model it was made on.
     */
    public static String sha256(Path dir) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            for (String f : List.of(CONFIG, VOCABULARY, WEIGHTS)) {
                Path p = dir.resolve(f);
                md.update(f.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(Files.size(p)).array());
                try (InputStream in = Files.newInputStream(p)) {
                    byte[] buf = new byte[1 << 16];
                    for (int n; (n = in.read(buf)) > 0;) {
                        md.update(buf, 0, n);
                    }
                }
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new ModelFormatException(dir + ": cannot read the model files to hash them: " + e.getMessage(), e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // A leftover temp file is harmless and the model is already loaded; nothing to report.
        }
    }

    /** Writes a bundle to {@code dir} (created if needed), weights in {@code dtype}. */
    public static void write(Path dir, ModelConfig config, Weights weights, Vocabulary vocabulary, DType dtype)
            throws IOException {
        Files.createDirectories(dir);
        ConfigJson.write(config, dir.resolve(CONFIG));
        vocabulary.write(dir.resolve(VOCABULARY));
        SafetensorsWriter.write(dir.resolve(WEIGHTS), weights.all(), dtype,
                Map.of("format", "pt", "mue.config", config.name()));
    }
}
