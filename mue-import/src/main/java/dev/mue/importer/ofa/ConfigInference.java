package dev.mue.importer.ofa;

import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResNetConfig;
import dev.mue.importer.ConfigFact;
import dev.mue.importer.ConfigInferenceException;
import dev.mue.importer.ImportOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Infers an OFA model's {@link ModelConfig} from its tensor shapes and stored arguments.
 *
 * <p>Sizes written in the shapes (width, layers, heads through {@code c_attn} and the relative
 * tables, FFN, vocabulary, positions, buckets, ResNet) come from the tensors; a stored argument
 * or a flag for the same fact must agree with them. The image size is in no tensor: it comes from
 * a flag, else the stored {@code patch_image_size}; without either the import is refused, naming
 * {@code --image-size}. Every fact records where it came from.
 */
public final class ConfigInference {
    private static final Pattern ENC_LAYER = Pattern.compile("encoder\\.layers\\.(\\d+)\\..*");
    private static final Pattern DEC_LAYER = Pattern.compile("decoder\\.layers\\.(\\d+)\\..*");
    private static final Pattern BLOCK = Pattern.compile("encoder\\.embed_images\\.layer([123])\\.(\\d+)\\.conv1\\.weight");
    private static final Map<String, int[]> RESNET_BLOCKS = Map.of(
            "resnet50", new int[] {3, 4, 6}, "resnet101", new int[] {3, 4, 23}, "resnet152", new int[] {3, 8, 36});
    /** OFA's {@code attn_scale_factor} default ({@code ofa_large_architecture}); the HF port hard-codes it. */
    public static final double OFA_ATTN_SCALE_FACTOR = 2.0;
    /** fairseq's LayerNorm epsilon, which OFA never changes. */
    public static final double OFA_LAYER_NORM_EPS = 1e-5;

    private final Path file;
    private final Map<String, int[]> shapes;
    private final List<CheckpointContents.Arguments> arguments;
    private final ImportOptions options;
    private final List<ConfigFact> facts = new ArrayList<>();

    private ConfigInference(Path file, Map<String, int[]> shapes, List<CheckpointContents.Arguments> arguments,
            ImportOptions options) {
        this.file = file;
        this.shapes = shapes;
        this.arguments = arguments;
        this.options = options;
    }

    /**
     * The result.
     *
     * @param config the inferred config (mue's conventions; the importer applies OFA's)
     * @param facts  each fact and its source
     */
    public record Result(ModelConfig config, List<ConfigFact> facts) {
    }

    /**
     * Infers the config.
     *
     * @param shapes    fairseq-named weight shapes (tied and skipped keys excluded)
     * @param arguments the checkpoint's stored arguments
     * @throws ConfigInferenceException naming the fact that cannot be settled and the flag for it
     */
    public static Result infer(Path file, Map<String, int[]> shapes, List<CheckpointContents.Arguments> arguments,
            ImportOptions options) {
        ConfigInference in = new ConfigInference(file, shapes, arguments, options);
        ModelConfig c = in.run();
        return new Result(c, List.copyOf(in.facts));
    }

    private ModelConfig run() {
        int d = resolve("d_model", dim("encoder.embed_tokens.weight", 1), null, null,
                "encoder_embed_dim", "decoder_embed_dim");
        int vocab = resolve("vocab_size", dim("encoder.embed_tokens.weight", 0), null, null);
        int enc = resolve("encoder_layers", layers(ENC_LAYER, "encoder.layers.N"), null, null, "encoder_layers");
        int dec = resolve("decoder_layers", layers(DEC_LAYER, "decoder.layers.N"), null, null, "decoder_layers");
        int heads = resolve("heads", firstDim(List.of("encoder.layers.0.self_attn.c_attn", 0),
                List.of("encoder.token_rel_pos_table_list.0.weight", 1), List.of("decoder.layers.0.self_attn.c_attn", 0)),
                options.heads(), "--heads", "encoder_attention_heads", "decoder_attention_heads");
        checkSame("heads", heads, "decoder.layers.0.self_attn.c_attn", 0);
        checkSame("heads", heads, "decoder.token_rel_pos_table_list.0.weight", 1);
        int ffn = resolve("ffn_dim", dim("encoder.layers.0.fc1.weight", 0), null, null,
                "encoder_ffn_embed_dim", "decoder_ffn_embed_dim");
        Tensor pos = dim("encoder.embed_positions.weight", 0);
        int maxPos = resolve("max_positions", pos == null ? null : new Tensor(pos.value - 2, pos.where + " rows - 2"),
                null, null, "max_source_positions", "max_target_positions");
        Tensor table = dim("encoder.token_rel_pos_table_list.0.weight", 0);
        Tensor tokenBucket = null;
        if (table != null) {
            if (table.value % 2 == 0) {
                throw refuse("token_bucket_size", null, table.where + " has " + table.value
                        + " rows; a relative table has 2 * token_bucket_size - 1");
            }
            tokenBucket = new Tensor((table.value + 1) / 2, "(" + table.where + " rows + 1) / 2");
        }
        int bucket = resolve("token_bucket_size", tokenBucket, null, null, "token_bucket_size");
        Tensor imgPos = dim("encoder.embed_image_positions.weight", 0);
        Tensor imageBucket = null;
        if (imgPos != null) {
            int side = (int) Math.round(Math.sqrt(imgPos.value - 1));
            if (side * side + 1 != imgPos.value) {
                throw refuse("image_bucket_size", null, imgPos.where + " has " + imgPos.value
                        + " rows; OFA's image positions have image_bucket_size^2 + 1");
            }
            imageBucket = new Tensor(side, "sqrt(" + imgPos.where + " rows - 1)");
        }
        int imgBucket = resolve("image_bucket_size", imageBucket, null, null, "image_bucket_size");
        ResNetConfig resnet = resnet();
        int imageSize = resolve("image_size", null, options.imageSize(), "--image-size", "patch_image_size");
        double scale = attnScale();
        facts.add(new ConfigFact("layer_norm_eps", "1e-5", "OFA (fairseq's LayerNorm default)"));
        String name = name();
        try {
            return new ModelConfig(name, d, enc, dec, heads, ffn, vocab, maxPos, bucket, imgBucket, imageSize, resnet,
                    scale, OFA_LAYER_NORM_EPS);
        } catch (IllegalArgumentException e) {
            throw new ConfigInferenceException(file + ": the inferred config is inconsistent: " + e.getMessage(),
                    "config", null);
        }
    }

    /** A size read from a tensor shape, and which tensor. */
    private record Tensor(int value, String where) {
    }

    private Tensor dim(String key, int axis) {
        int[] s = shapes.get(key);
        return s == null || s.length <= axis ? null : new Tensor(s[axis], key + " dim " + axis);
    }

    @SafeVarargs
    private Tensor firstDim(List<Object>... candidates) {
        for (List<Object> c : candidates) {
            Tensor t = dim((String) c.get(0), (Integer) c.get(1));
            if (t != null) {
                return t;
            }
        }
        return null;
    }

    private void checkSame(String fact, int value, String key, int axis) {
        Tensor t = dim(key, axis);
        if (t != null && t.value != value) {
            throw new ConfigInferenceException(file + ": " + fact + " is " + value + " in the encoder but " + t.value
                    + " in " + t.where + "; mue needs one value", fact, null);
        }
    }

    private Tensor layers(Pattern p, String label) {
        TreeSet<Integer> seen = new TreeSet<>();
        for (String k : shapes.keySet()) {
            Matcher m = p.matcher(k);
            if (m.matches()) {
                seen.add(Integer.parseInt(m.group(1)));
            }
        }
        return seen.isEmpty() ? null : new Tensor(seen.last() + 1, "the highest index of " + label + " + 1");
    }

    private ResNetConfig resnet() {
        Tensor stem = dim("encoder.embed_images.conv1.weight", 0);
        Tensor base = dim("encoder.embed_images.layer1.0.conv1.weight", 0);
        int[] blocks = new int[3];
        for (String k : shapes.keySet()) {
            Matcher m = BLOCK.matcher(k);
            if (m.matches()) {
                int s = Integer.parseInt(m.group(1)) - 1;
                blocks[s] = Math.max(blocks[s], Integer.parseInt(m.group(2)) + 1);
            }
        }
        if (stem == null || base == null || blocks[0] == 0 || blocks[1] == 0 || blocks[2] == 0) {
            throw refuse("resnet", null, "the ResNet tensors (encoder.embed_images.conv1.weight, layer1..3) are missing");
        }
        Arg type = arg("resnet_type");
        String source = "tensors (encoder.embed_images.*: stem " + stem.value + ", width " + base.value
                + ", blocks " + java.util.Arrays.toString(blocks) + ")";
        if (type != null) {
            int[] named = RESNET_BLOCKS.get(String.valueOf(type.value));
            if (named == null) {
                source += "; " + type.label + " = " + type.value + " is not one of OFA's " + RESNET_BLOCKS.keySet().stream()
                        .sorted().toList() + ", so the tensors alone decide";
            } else if (!java.util.Arrays.equals(named, blocks)) {
                throw new ConfigInferenceException(file + ": the ResNet has blocks " + java.util.Arrays.toString(blocks)
                        + " in the tensors but " + type.label + " says " + type.value, "resnet", null);
            } else {
                source += ", agrees with " + type.label;
            }
        }
        try {
            ResNetConfig r = new ResNetConfig(stem.value, base.value, blocks);
            facts.add(new ConfigFact("resnet", r.toString(), source));
            return r;
        } catch (IllegalArgumentException e) {
            throw refuse("resnet", null, e.getMessage());
        }
    }

    private double attnScale() {
        Arg a = arg("attn_scale_factor");
        if (a == null) {
            facts.add(new ConfigFact("attn_scale_factor", "2.0", "OFA default (ofa_large_architecture; the HF port fixes it)"));
            return OFA_ATTN_SCALE_FACTOR;
        }
        if (!(a.value instanceof Number n) || !(n.doubleValue() > 0)) {
            throw new ConfigInferenceException(file + ": " + a.label + " is " + a.value + ", not a positive number",
                    "attn_scale_factor", null);
        }
        facts.add(new ConfigFact("attn_scale_factor", Double.toString(n.doubleValue()), a.label));
        return n.doubleValue();
    }

    private String name() {
        if (options.name() != null) {
            facts.add(new ConfigFact("name", options.name(), "flag --name"));
            return options.name();
        }
        Arg arch = arg("arch");
        if (arch != null && arch.value instanceof String s && !s.isBlank()) {
            String n = s.replace('_', '-').toLowerCase(Locale.ROOT);
            facts.add(new ConfigFact("name", n, arch.label));
            return n;
        }
        String stem = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        String n = stem.isBlank() ? "imported" : stem;
        facts.add(new ConfigFact("name", n, "checkpoint file name"));
        return n;
    }

    /** A stored argument and where it was found. */
    private record Arg(String label, Object value) {
    }

    private Arg arg(String name) {
        for (CheckpointContents.Arguments a : arguments) {
            if (a.values().containsKey(name) && a.values().get(name) != null) {
                return new Arg(a.label() + "." + name, a.values().get(name));
            }
        }
        return null;
    }

    /**
     * Settles one integer fact: the tensors decide when they show it (flags and arguments must
     * agree), else a flag, else the stored arguments (which must agree among themselves).
     */
    private int resolve(String fact, Tensor tensor, Integer flag, String flagName, String... argNames) {
        List<Arg> args = new ArrayList<>();
        for (String n : argNames) {
            Arg a = arg(n);
            if (a != null) {
                if (!(a.value instanceof Integer || a.value instanceof Long)) {
                    throw new ConfigInferenceException(file + ": " + a.label + " is " + a.value + ", not an integer",
                            fact, flagName);
                }
                args.add(a);
            }
        }
        if (tensor != null) {
            StringBuilder source = new StringBuilder("tensors (" + tensor.where + ")");
            for (Arg a : args) {
                if (((Number) a.value).longValue() != tensor.value) {
                    throw new ConfigInferenceException(file + ": " + fact + " is " + tensor.value + " in the tensors ("
                            + tensor.where + ") but " + a.label + " says " + a.value, fact, flagName);
                }
                source.append(", agrees with ").append(a.label);
            }
            if (flag != null && flag != tensor.value) {
                throw new ConfigInferenceException(file + ": " + fact + " is " + tensor.value + " in the tensors ("
                        + tensor.where + ") but " + flagName + " says " + flag, fact, flagName);
            }
            if (flag != null) {
                source.append(", agrees with ").append(flagName);
            }
            facts.add(new ConfigFact(fact, Integer.toString(tensor.value), source.toString()));
            return tensor.value;
        }
        if (flag != null) {
            String source = "flag " + flagName;
            for (Arg a : args) {
                source += ((Number) a.value).longValue() == flag ? ", agrees with " + a.label
                        : " (overrides " + a.label + " = " + a.value + ")";
            }
            facts.add(new ConfigFact(fact, Integer.toString(flag), source));
            return flag;
        }
        if (!args.isEmpty()) {
            Arg first = args.get(0);
            long v = ((Number) first.value).longValue();
            for (Arg a : args) {
                if (((Number) a.value).longValue() != v) {
                    throw new ConfigInferenceException(file + ": " + first.label + " = " + first.value + " but "
                            + a.label + " = " + a.value + "; pass " + flagName + " to choose", fact, flagName);
                }
            }
            if (v <= 0 || v > Integer.MAX_VALUE) {
                throw new ConfigInferenceException(file + ": " + first.label + " = " + v + " is not a valid " + fact,
                        fact, flagName);
            }
            facts.add(new ConfigFact(fact, Long.toString(v), first.label));
            return (int) v;
        }
        String stored = arguments.isEmpty() ? "the checkpoint stores no arguments (args/cfg)"
                : "its stored arguments (" + String.join(", ", arguments.stream().map(CheckpointContents.Arguments::label).toList())
                        + ") do not give " + String.join(" or ", argNames);
        throw refuse(fact, flagName, "it is in no tensor and " + stored);
    }

    private ConfigInferenceException refuse(String fact, String flagName, String why) {
        String fix = flagName != null ? "; pass " + flagName + (fact.equals("image_size")
                ? " S (OFA's released fine-tunes use 480; pretrained models 384)" : " N") : "";
        return new ConfigInferenceException(file + ": cannot infer " + fact + ": " + why + fix, fact, flagName);
    }
}
