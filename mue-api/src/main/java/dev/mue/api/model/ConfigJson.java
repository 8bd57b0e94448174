package dev.mue.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mue.api.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;

/**
 * Reads and writes a {@link ModelConfig} as the bundle's {@code config.json} (snake_case keys).
 *
 * <p>Unknown keys, missing keys and values of the wrong type are rejected with a message that
 * names the file and the key: a config is never half-read.
 *
 * <p>The optional object {@code conventions} records where a bundle follows OFA rather than mue's
 * own choices ({@link ModelConfig.Conventions}); a config without it gets
 * {@link ModelConfig.Conventions#MUE}, what every earlier mue bundle was made with:
 * <pre>
 * "conventions": {"token_bucket_positions": 1024, "image_resize": "pil-bicubic",
 *                 "text_normalization": "ofa", "max_words": 128, "ban_bos_in_generation": false}
 * </pre>
 * ({@code token_bucket_positions} 0 means {@code max_positions}; {@code image_resize} is
 * {@code float-bicubic} or {@code pil-bicubic}; {@code text_normalization} is {@code whitespace}
 * or {@code ofa}.)
 */
public final class ConfigJson {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_CONFIG_BYTES = 1 << 20;
    private static final Set<String> KEYS = Set.of("name", "d_model", "encoder_layers", "decoder_layers", "heads",
            "ffn_dim", "vocab_size", "max_positions", "token_bucket_size", "image_bucket_size", "image_size",
            "resnet", "attn_scale_factor", "layer_norm_eps", "conventions");
    private static final Set<String> CONVENTION_KEYS = Set.of("token_bucket_positions", "image_resize",
            "text_normalization", "max_words", "ban_bos_in_generation");

    private ConfigJson() {
    }

    /** Parses {@code config.json}; every defect is a {@link ModelFormatException} naming the file. */
    public static ModelConfig read(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new ModelFormatException("model config not found: " + file);
            }
            if (Files.size(file) > MAX_CONFIG_BYTES) {
                throw new ModelFormatException(file + ": config larger than " + MAX_CONFIG_BYTES + " bytes");
            }
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read model config: " + e.getMessage(), e);
        }
    }

    /** Parses config JSON text; {@code source} names it in error messages. */
    public static ModelConfig parse(String text, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelFormatException(source + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(source + ": model config must be a JSON object");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!KEYS.contains(k)) {
                throw new ModelFormatException(source + ": unknown key '" + k + "' in model config");
            }
        }
        JsonNode rn = root.get("resnet");
        if (rn == null || !rn.isObject()) {
            throw new ModelFormatException(source + ": missing object 'resnet'");
        }
        JsonNode blocks = rn.get("blocks");
        if (blocks == null || !blocks.isArray()) {
            throw new ModelFormatException(source + ": missing array 'resnet.blocks'");
        }
        int[] b = new int[blocks.size()];
        for (int i = 0; i < b.length; i++) {
            if (!blocks.get(i).isInt()) {
                throw new ModelFormatException(source + ": 'resnet.blocks' must hold integers");
            }
            b[i] = blocks.get(i).intValue();
        }
        try {
            ResNetConfig resnet = new ResNetConfig(integer(rn, "stem_channels", source), integer(rn, "base_width", source), b);
            JsonNode name = root.get("name");
            if (name == null || !name.isTextual()) {
                throw new ModelFormatException(source + ": missing string 'name'");
            }
            return new ModelConfig(name.textValue(), integer(root, "d_model", source),
                    integer(root, "encoder_layers", source), integer(root, "decoder_layers", source),
                    integer(root, "heads", source), integer(root, "ffn_dim", source),
                    integer(root, "vocab_size", source), integer(root, "max_positions", source),
                    integer(root, "token_bucket_size", source), integer(root, "image_bucket_size", source),
                    integer(root, "image_size", source), resnet, number(root, "attn_scale_factor", source),
                    number(root, "layer_norm_eps", source), conventions(root.get("conventions"), source));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": inconsistent model config: " + e.getMessage(), e);
        }
    }

    private static ModelConfig.Conventions conventions(JsonNode node, String source) {
        if (node == null) {
            return ModelConfig.Conventions.MUE;
        }
        if (!node.isObject()) {
            throw new ModelFormatException(source + ": 'conventions' must be an object");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!CONVENTION_KEYS.contains(k)) {
                throw new ModelFormatException(source + ": unknown key 'conventions." + k + "' in model config; known: "
                        + new java.util.TreeSet<>(CONVENTION_KEYS));
            }
        }
        JsonNode bos = node.get("ban_bos_in_generation");
        if (bos == null || !bos.isBoolean()) {
            throw new ModelFormatException(source + ": key 'conventions.ban_bos_in_generation' must be true or false");
        }
        return new ModelConfig.Conventions(integer(node, "token_bucket_positions", source),
                choice(node, "image_resize", source, ModelConfig.ImageResize.class),
                choice(node, "text_normalization", source, ModelConfig.TextNormalization.class),
                integer(node, "max_words", source), bos.booleanValue());
    }

    /** An enum constant spelled in lower case with hyphens ({@code PIL_BICUBIC} is {@code pil-bicubic}). */
    private static <E extends Enum<E>> E choice(JsonNode node, String key, String source, Class<E> type) {
        JsonNode v = node.get(key);
        java.util.List<String> known = java.util.Arrays.stream(type.getEnumConstants()).map(ConfigJson::spell).toList();
        if (v != null && v.isTextual()) {
            for (E e : type.getEnumConstants()) {
                if (spell(e).equals(v.textValue())) {
                    return e;
                }
            }
        }
        throw new ModelFormatException(source + ": key 'conventions." + key + "' must be one of " + known
                + (v == null ? "" : ", got " + v));
    }

    private static String spell(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    private static int integer(JsonNode node, String key, String source) {
        JsonNode v = node.get(key);
        if (v == null || !v.isInt()) {
            throw new ModelFormatException(source + ": key '" + key + "' must be a 32-bit integer");
        }
        return v.intValue();
    }

    private static double number(JsonNode node, String key, String source) {
        JsonNode v = node.get(key);
        if (v == null || !v.isNumber()) {
            throw new ModelFormatException(source + ": key '" + key + "' must be a number");
        }
        return v.doubleValue();
    }

    /** The JSON text of a config, pretty-printed. */
    public static String toJson(ModelConfig c) {
        ObjectNode root = JSON.createObjectNode();
        root.put("name", c.name());
        root.put("d_model", c.dModel());
        root.put("encoder_layers", c.encoderLayers());
        root.put("decoder_layers", c.decoderLayers());
        root.put("heads", c.heads());
        root.put("ffn_dim", c.ffnDim());
        root.put("vocab_size", c.vocabSize());
        root.put("max_positions", c.maxPositions());
        root.put("token_bucket_size", c.tokenBucketSize());
        root.put("image_bucket_size", c.imageBucketSize());
        root.put("image_size", c.imageSize());
        ObjectNode rn = root.putObject("resnet");
        rn.put("stem_channels", c.resnet().stemChannels());
        rn.put("base_width", c.resnet().baseWidth());
        var arr = rn.putArray("blocks");
        for (int x : c.resnet().blocks()) {
            arr.add(x);
        }
        root.put("attn_scale_factor", c.attnScaleFactor());
        root.put("layer_norm_eps", c.layerNormEps());
        ModelConfig.Conventions k = c.conventions();
        ObjectNode cv = root.putObject("conventions");
        cv.put("token_bucket_positions", k.tokenBucketPositions());
        cv.put("image_resize", spell(k.imageResize()));
        cv.put("text_normalization", spell(k.textNormalization()));
        cv.put("max_words", k.maxWords());
        cv.put("ban_bos_in_generation", k.banBosInGeneration());
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code config.json}. */
    public static void write(ModelConfig c, Path file) throws IOException {
        dev.mue.api.files.AtomicFile.write(file, tmp -> Files.writeString(tmp, toJson(c)));
    }
}
