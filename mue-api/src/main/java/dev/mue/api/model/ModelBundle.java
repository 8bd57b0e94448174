package dev.mue.api.model;

import dev.mue.api.ModelFormatException;
import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.safetensors.SafetensorsFile;
import dev.mue.api.safetensors.SafetensorsWriter;
import dev.mue.api.tensor.DType;
import dev.mue.api.tensor.FloatTensor;
import dev.mue.api.text.Vocabulary;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The on-disk form of a model: a directory with {@code config.json}, {@code model.safetensors}
 * and {@code dict.txt} (the fairseq-style vocabulary), and optionally {@code policy.json}, the
 * model's own exit policies per task ({@link PolicyFile}), and {@code model.safetensors.sha256}, the
 * weights' checksum ({@link #CHECKSUM}), verified when present.
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
     * File name of the optional checksum of the weights, {@code sha256sum}'s format
     * ({@code <64 hex digits>  model.safetensors}). {@link #write} writes it; loading verifies it when
     * it is there. Safetensors itself carries no checksum, so without it a file whose bytes were
     * damaged, or relabelled as another dtype, loads as wrong numbers.
     */
    public static final String CHECKSUM = WEIGHTS + ".sha256";

    /** Largest checksum file read. */
    private static final int MAX_CHECKSUM_BYTES = 4096;
    /** Largest {@code config.json} or {@code policy.json} read from resources. */
    private static final int MAX_JSON_BYTES = 1 << 20;
    /** Largest weights read from resources: one byte buffer. */
    private static final long MAX_RESOURCE_WEIGHTS = Integer.MAX_VALUE - 8;

    /** Opens one file of a bundle held somewhere other than a directory. */
    @FunctionalInterface
    public interface Resources {
        /** The content of bundle file {@code name} ({@code config.json}, ...), or null when there is none. */
        InputStream open(String name) throws IOException;
    }

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
        Path sumFile = dir.resolve(CHECKSUM);
        if (Files.exists(sumFile)) {
            try (InputStream sum = Files.newInputStream(sumFile); InputStream w = Files.newInputStream(weightsFile)) {
                verifyChecksum(sum, sumFile.toString(), w, weightsFile.toString());
            } catch (IOException e) {
                throw new ModelFormatException("cannot read " + sumFile + " or " + weightsFile + ": " + e.getMessage(), e);
            }
        }
        Weights weights;
        try (SafetensorsFile st = SafetensorsFile.open(weightsFile)) {
            weights = readWeights(config, st, dir.resolve(CONFIG).toString());
        }
        Path policyFile = dir.resolve(POLICY);
        ModelPolicies policies = Files.exists(policyFile) ? PolicyFile.read(policyFile, POLICY_SOURCE) : ModelPolicies.none();
        return new Model(config, weights, vocab, dir.toString(), policies, sha256(dir));
    }

    /**
     * Loads a bundle shipped as class-path resources under {@code resourceDir} (e.g.
     * {@code dev/mue/model/grid/mue-grid}), in memory: nothing is written to disk, so a process
     * killed while it loads leaves nothing behind. Its source is {@code classpath:resourceDir}.
     */
    public static Model loadResource(ClassLoader loader, String resourceDir) {
        return loadResources("classpath:" + resourceDir, f -> loader.getResourceAsStream(resourceDir + "/" + f));
    }

    /**
     * Loads a bundle whose files {@code resources} opens (a module's own resources, say), in memory
     * and with every check of {@link #load(Path)}; {@code source} names it in messages and traces.
     */
    public static Model loadResources(String source, Resources resources) {
        try {
            byte[] configBytes = readResource(resources, CONFIG, source, MAX_JSON_BYTES, true);
            ModelConfig config = ConfigJson.parse(new String(configBytes, StandardCharsets.UTF_8), source + "/" + CONFIG);
            byte[] vocabBytes = readResource(resources, VOCABULARY, source, Vocabulary.MAX_FILE_BYTES, true);
            Vocabulary vocab = Vocabulary.read(new ByteArrayInputStream(vocabBytes), source + "/" + VOCABULARY);
            byte[] weightBytes = readResource(resources, WEIGHTS, source, MAX_RESOURCE_WEIGHTS, true);
            byte[] sum = readResource(resources, CHECKSUM, source, MAX_CHECKSUM_BYTES, false);
            if (sum != null) {
                verifyChecksum(new ByteArrayInputStream(sum), source + "/" + CHECKSUM,
                        new ByteArrayInputStream(weightBytes), source + "/" + WEIGHTS);
            }
            Weights weights;
            try (SafetensorsFile st = SafetensorsFile.read(ByteBuffer.wrap(weightBytes), source + "/" + WEIGHTS)) {
                weights = readWeights(config, st, source + "/" + CONFIG);
            }
            byte[] policy = readResource(resources, POLICY, source, MAX_JSON_BYTES, false);
            ModelPolicies policies = policy == null ? ModelPolicies.none()
                    : PolicyFile.parse(new String(policy, StandardCharsets.UTF_8), source + "/" + POLICY, POLICY_SOURCE);
            String hash = sha256(List.of(configBytes, vocabBytes, weightBytes));
            return new Model(config, weights, vocab, source, policies, hash);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read the bundled model " + source + ": " + e.getMessage(), e);
        }
    }

    private static byte[] readResource(Resources resources, String name, String source, long max, boolean required)
            throws IOException {
        try (InputStream in = resources.open(name)) {
            if (in == null) {
                if (required) {
                    throw new ModelFormatException("bundled model resource missing: " + source + "/" + name);
                }
                return null;
            }
            byte[] b = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 8));
            if (b.length > max) {
                throw new ModelFormatException(source + "/" + name + " is larger than the limit of " + max + " bytes");
            }
            return b;
        }
    }

    /**
     * Reads every tensor of {@code st}, first checking that the data could hold a model of
     * {@code config} at all: a config that asks for far more than the file has (100,000 layers, say)
     * fails here, in one line, instead of listing millions of missing tensors.
     */
    private static Weights readWeights(ModelConfig config, SafetensorsFile st, String configName) {
        long capacity = st.dataBytes() / 2; // F16 and BF16, two bytes, are the smallest dtypes read
        long need = WeightLayout.parameterCount(config, capacity);
        if (need > capacity) {
            throw new ModelFormatException(configName + " describes a model of more than " + capacity
                    + " parameters (d_model " + config.dModel() + ", encoder_layers " + config.encoderLayers()
                    + ", decoder_layers " + config.decoderLayers() + ", ffn_dim " + config.ffnDim() + ", vocab_size "
                    + config.vocabSize() + ") but " + st.source() + " holds " + st.dataBytes()
                    + " bytes of tensors, room for at most " + capacity
                    + " parameters even as 16-bit floats: the config and the weights do not belong together");
        }
        List<FloatTensor> tensors = new ArrayList<>();
        for (String name : st.names()) {
            tensors.add(st.readFloat(name));
        }
        return new Weights(tensors);
    }

    /** Compares the weights' SHA-256 with the one a checksum file names. */
    private static void verifyChecksum(InputStream sumIn, String sumName, InputStream weights, String weightsName)
            throws IOException {
        byte[] raw = sumIn.readNBytes(MAX_CHECKSUM_BYTES + 1);
        String text = new String(raw, StandardCharsets.UTF_8).strip();
        String expected = text.split("\\s+", 2)[0].toLowerCase(java.util.Locale.ROOT);
        if (raw.length > MAX_CHECKSUM_BYTES || !expected.matches("[0-9a-f]{64}")) {
            throw new ModelFormatException(sumName + ": expected a SHA-256 (64 hex digits, as sha256sum writes it)");
        }
        MessageDigest md = sha256Digest();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = weights.read(buf)) > 0;) {
            md.update(buf, 0, n);
        }
        String actual = HexFormat.of().formatHex(md.digest());
        if (!actual.equals(expected)) {
            throw new ModelFormatException(weightsName + ": SHA-256 " + actual + " does not match " + expected + " in "
                    + sumName + "; the weights were damaged or replaced after the bundle was written");
        }
    }

    /** The checksum file's content for weights of SHA-256 {@code hex}: {@code sha256sum}'s line. */
    private static String checksumLine(String hex) {
        return hex + "  " + WEIGHTS + "\n";
    }

    /**
     * SHA-256 of a bundle's model files, what a calibration certificate names the model by: for
     * each of {@code config.json}, {@code dict.txt} and {@code model.safetensors} in that order, its
     * name, its length (8 bytes, little-endian) and its bytes. {@code policy.json} is left out: a
     * certificate lives in it and names the model it was made on.
     */
    public static String sha256(Path dir) {
        try {
            MessageDigest md = sha256Digest();
            for (String f : List.of(CONFIG, VOCABULARY, WEIGHTS)) {
                Path p = dir.resolve(f);
                try (InputStream in = Files.newInputStream(p)) {
                    digestFile(md, f, Files.size(p), in);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new ModelFormatException(dir + ": cannot read the model files to hash them: " + e.getMessage(), e);
        }
    }

    /** {@link #sha256(Path)} of files held in memory: config, vocabulary and weights, in that order. */
    private static String sha256(List<byte[]> files) throws IOException {
        MessageDigest md = sha256Digest();
        List<String> names = List.of(CONFIG, VOCABULARY, WEIGHTS);
        for (int i = 0; i < names.size(); i++) {
            digestFile(md, names.get(i), files.get(i).length, new ByteArrayInputStream(files.get(i)));
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void digestFile(MessageDigest md, String name, long size, InputStream in) throws IOException {
        md.update(name.getBytes(StandardCharsets.UTF_8));
        md.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(size).array());
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0;) {
            md.update(buf, 0, n);
        }
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    /** Writes a bundle to {@code dir} (created if needed), weights in {@code dtype}. */
    public static void write(Path dir, ModelConfig config, Weights weights, Vocabulary vocabulary, DType dtype)
            throws IOException {
        Files.createDirectories(dir);
        ConfigJson.write(config, dir.resolve(CONFIG));
        vocabulary.write(dir.resolve(VOCABULARY));
        Path weightsFile = dir.resolve(WEIGHTS);
        SafetensorsWriter.write(weightsFile, weights.all(), dtype, Map.of("format", "pt", "mue.config", config.name()));
        writeChecksum(dir);
    }

    /**
     * Writes {@link #CHECKSUM} for the bundle's current {@code model.safetensors}, so that loading
     * verifies the weights from then on ({@link #write} does this itself).
     */
    public static void writeChecksum(Path dir) throws IOException {
        MessageDigest md = sha256Digest();
        try (InputStream in = Files.newInputStream(dir.resolve(WEIGHTS))) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
        }
        String line = checksumLine(HexFormat.of().formatHex(md.digest()));
        dev.mue.api.files.AtomicFile.write(dir.resolve(CHECKSUM), tmp -> Files.writeString(tmp, line));
    }
}
