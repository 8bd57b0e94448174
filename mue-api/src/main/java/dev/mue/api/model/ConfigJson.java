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
 */
public final class ConfigJson {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_CONFIG_BYTES = 1 << 20;
    private static final Set<String> KEYS = Set.of("name", "d_model", "encoder_layers", "decoder_layers", "heads",
            "ffn_dim", "vocab_size", "max_positions", "token_bucket_size", "image_bucket_size", "image_size",
            "resnet", "attn_scale_factor", "layer_norm_eps");

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
                    number(root, "layer_norm_eps", source));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": inconsistent model config: " + e.getMessage(), e);
        }
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
