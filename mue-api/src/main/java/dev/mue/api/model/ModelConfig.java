package dev.mue.api.model;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Architecture of an OFA-style encoder-decoder: sizes, position buckets, image size and backbone.
 *
 * <p>The presets ({@link #preset(String)}) reproduce OFA's tiny to huge architectures; any other
 * consistent combination is a custom config (small ResNet widths and block counts are allowed).
 *
 * @param name             a label for the config, e.g. {@code ofa-base}
 * @param dModel           hidden size d
 * @param encoderLayers    encoder layers, shared by the image and text streams
 * @param decoderLayers    decoder layers
 * @param heads            attention heads; must divide {@code dModel}
 * @param ffnDim           feed-forward inner width
 * @param vocabSize        rows of the tied token embedding; at least the vocabulary's size
 * @param maxPositions     longest text (encoder) or decoder sequence; position tables have
 *                         {@code maxPositions + 2} rows as in fairseq
 * @param tokenBucketSize  1-D relative position buckets (256 in OFA); tables have
 *                         {@code 2 * tokenBucketSize - 1} rows
 * @param imageBucketSize  largest image grid side (42 in OFA); image position tables have
 *                         {@code imageBucketSize^2 + 1} rows
 * @param imageSize        input image side S; the backbone yields {@code ceil(S/16)^2} tokens
 * @param resnet           the image backbone
 * @param attnScaleFactor  queries are scaled by {@code (attnScaleFactor * headDim)^-1/2} (2 in OFA)
 * @param layerNormEps     LayerNorm and BatchNorm epsilon (1e-5)
 * @param conventions      the choices where mue's own bundles and OFA differ (bucket length,
 *                         resize, text normalisation, bos in generation); {@link Conventions#MUE}
 *                         for mue's bundles, {@link Conventions#OFA} for imported OFA checkpoints
 */
public record ModelConfig(String name, int dModel, int encoderLayers, int decoderLayers, int heads, int ffnDim,
        int vocabSize, int maxPositions, int tokenBucketSize, int imageBucketSize, int imageSize,
        ResNetConfig resnet, double attnScaleFactor, double layerNormEps, Conventions conventions) {

    /** How images are resized to {@code imageSize} before normalisation. */
    public enum ImageResize {
        /**
         * mue's own: separable bicubic (a = -0.5) in floating point on the decoded 8-bit image,
         * rounded and clipped once, at the end.
         */
        FLOAT_BICUBIC,
        /**
         * OFA's: Pillow's {@code Image.resize(BICUBIC)} on the 8-bit image (what torchvision's
         * {@code Resize} does on a PIL image), horizontal pass then vertical, each rounded and
         * clipped to 8 bits in Pillow's fixed point, bit for bit.
         */
        PIL_BICUBIC
    }

    /** How caption prompts and hypotheses are normalised before BPE. */
    public enum TextNormalization {
        /**
         * mue's own ({@code Tokenizer.normalize}): OFA's steps, but every whitespace run (a single
         * tab or newline too) becomes one space, {@code <person>} stays, and there is no word limit.
         */
        WHITESPACE,
        /**
         * OFA's {@code pre_caption} ({@code Tokenizer.preCaption}): lower-case, strip leading
         * {@code ,.!?*#:;~}, {@code -} and {@code /} to spaces, {@code <person>} to {@code person},
         * runs of two or more whitespace characters to one space, trim, and truncate to
         * {@link Conventions#maxWords} words.
         */
        OFA
    }

    /**
     * The choices where mue's own bundles and OFA's code differ, each named so that nothing
     * departs from OFA unannounced (design §10.3).
     *
     * @param tokenBucketPositions the maximum position that 1-D relative buckets are scaled over:
     *                             OFA always uses 1024 ({@code DEFAULT_MAX_SOURCE_POSITIONS});
     *                             0 means this config's {@code maxPositions} (what mue's bundles
     *                             were trained with)
     * @param imageResize          the resize before normalisation
     * @param textNormalization    the text normalisation of prompts and hypotheses
     * @param maxWords             with {@link TextNormalization#OFA}, the word limit of a caption
     *                             or hypothesis (OFA's {@code max_src_length}, 128); 0 for none
     * @param banBosInGeneration   whether beam search never emits bos: mue's bundles were decoded
     *                             so; OFA's sequence generator masks only pad (and bos may then be
     *                             generated)
     */
    public record Conventions(int tokenBucketPositions, ImageResize imageResize, TextNormalization textNormalization,
            int maxWords, boolean banBosInGeneration) {

        /** What mue's own bundles were trained and decoded with (the default when config.json says nothing). */
        public static final Conventions MUE = new Conventions(0, ImageResize.FLOAT_BICUBIC,
                TextNormalization.WHITESPACE, 0, true);

        /** OFA's own code: the default for imported OFA checkpoints. */
        public static final Conventions OFA = new Conventions(1024, ImageResize.PIL_BICUBIC, TextNormalization.OFA,
                128, false);

        /** Checks the values. */
        public Conventions {
            if (tokenBucketPositions < 0) {
                throw new IllegalArgumentException("token_bucket_positions must be 0 (max_positions) or positive, got "
                        + tokenBucketPositions);
            }
            if (maxWords < 0) {
                throw new IllegalArgumentException("max_words must be 0 (none) or positive, got " + maxWords);
            }
            if (imageResize == null || textNormalization == null) {
                throw new IllegalArgumentException("conventions need an image resize and a text normalisation");
            }
        }
    }

    /** A config with mue's own {@link Conventions#MUE}. */
    public ModelConfig(String name, int dModel, int encoderLayers, int decoderLayers, int heads, int ffnDim,
            int vocabSize, int maxPositions, int tokenBucketSize, int imageBucketSize, int imageSize,
            ResNetConfig resnet, double attnScaleFactor, double layerNormEps) {
        this(name, dModel, encoderLayers, decoderLayers, heads, ffnDim, vocabSize, maxPositions, tokenBucketSize,
                imageBucketSize, imageSize, resnet, attnScaleFactor, layerNormEps, Conventions.MUE);
    }

    /** OFA's vocabulary: 4 specials, 50,260 BPE entries, mask, 8192 image codes, 1000 location bins. */
    public static final int OFA_VOCAB_SIZE = 59457;

    /** Validates every size and the consistency between them. */
    public ModelConfig {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("model config needs a name");
        }
        requirePositive("d_model", dModel);
        requirePositive("encoder_layers", encoderLayers);
        requirePositive("decoder_layers", decoderLayers);
        requirePositive("heads", heads);
        requirePositive("ffn_dim", ffnDim);
        requirePositive("vocab_size", vocabSize);
        requirePositive("max_positions", maxPositions);
        requirePositive("token_bucket_size", tokenBucketSize);
        requirePositive("image_bucket_size", imageBucketSize);
        requirePositive("image_size", imageSize);
        if (dModel % heads != 0) {
            throw new IllegalArgumentException("d_model " + dModel + " is not a multiple of heads " + heads);
        }
        if (vocabSize < 5) {
            throw new IllegalArgumentException("vocab_size " + vocabSize + " leaves no room beyond the 4 specials");
        }
        if (tokenBucketSize < 2) {
            throw new IllegalArgumentException("token_bucket_size must be at least 2, got " + tokenBucketSize);
        }
        if (maxPositions < 2) {
            throw new IllegalArgumentException("max_positions must be at least 2, got " + maxPositions);
        }
        if (imageSize > 4096) {
            throw new IllegalArgumentException("image_size " + imageSize + " exceeds the limit 4096");
        }
        int grid = ResNetConfig.gridSize(imageSize);
        if (grid > imageBucketSize) {
            throw new IllegalArgumentException("image_size " + imageSize + " gives a " + grid + "x" + grid
                    + " grid, larger than image_bucket_size " + imageBucketSize);
        }
        if (!(attnScaleFactor > 0) || !(layerNormEps > 0) || attnScaleFactor == Double.POSITIVE_INFINITY
                || layerNormEps == Double.POSITIVE_INFINITY) {
            // JSON's 1e705 reads as infinity, which no config can mean and none can write back
            throw new IllegalArgumentException("attn_scale_factor and layer_norm_eps must be positive and finite, got "
                    + attnScaleFactor + " and " + layerNormEps);
        }
        if (resnet == null) {
            throw new IllegalArgumentException("model config needs a resnet section");
        }
        if (conventions == null) {
            throw new IllegalArgumentException("model config needs its conventions");
        }
        if (conventions.tokenBucketPositions() != 0 && conventions.tokenBucketPositions() <= tokenBucketSize / 2) {
            throw new IllegalArgumentException("token_bucket_positions " + conventions.tokenBucketPositions()
                    + " must exceed half the token_bucket_size " + tokenBucketSize);
        }
        checkTableSizes(dModel, heads, ffnDim, vocabSize, maxPositions, tokenBucketSize, imageBucketSize, resnet);
    }

    /** Most elements of one weight tensor: a Java array cannot quite reach {@code Integer.MAX_VALUE} on every VM. */
    public static final long MAX_TENSOR_ELEMENTS = Integer.MAX_VALUE - 8;

    /**
     * Refuses sizes whose tables would not fit one Java array. Every derived size is computed in
     * {@code long}: {@code max_positions + 2} or {@code 2 * token_bucket_size - 1} overflow an
     * {@code int} near its limit and would otherwise come out negative.
     */
    private static void checkTableSizes(int d, int heads, int ffn, int vocab, int maxPositions, int tokenBuckets,
            int imageBuckets, ResNetConfig resnet) {
        long imageSide = 2L * imageBuckets - 1;
        long stageOut = 16L * resnet.baseWidth();
        long stageWidth = 4L * resnet.baseWidth();
        long[][] tables = {
            {vocab, d}, {maxPositions + 2L, d}, {2L * tokenBuckets - 1, heads},
            {(long) imageBuckets * imageBuckets + 1, d}, {imageSide * imageSide + 3, heads}, {ffn, d},
            {stageOut, d}, {stageWidth, 9 * stageWidth},
        };
        String[] what = {
            "vocab_size x d_model (token embedding)", "(max_positions + 2) x d_model (position table)",
            "(2 token_bucket_size - 1) x heads (relative position table)",
            "(image_bucket_size^2 + 1) x d_model (image position table)",
            "((2 image_bucket_size - 1)^2 + 3) x heads (image relative position table)", "ffn_dim x d_model",
            "16 base_width x d_model (image_proj)", "(4 base_width)^2 x 3 x 3 (the last stage's 3x3 convolution)",
        };
        for (int i = 0; i < tables.length; i++) {
            long rows = tables[i][0];
            long cols = tables[i][1];
            // rows and cols are at most about 2^33 each, so a product over 2^63 is caught by the division
            if (rows > MAX_TENSOR_ELEMENTS || cols > MAX_TENSOR_ELEMENTS || rows * cols / cols != rows
                    || rows * cols > MAX_TENSOR_ELEMENTS) {
                throw new IllegalArgumentException(what[i] + " is " + rows + " x " + cols + " = "
                        + java.math.BigInteger.valueOf(rows).multiply(java.math.BigInteger.valueOf(cols))
                        + " elements, more than the limit of " + MAX_TENSOR_ELEMENTS + " for one tensor");
            }
        }
    }

    private static void requirePositive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be positive, got " + value);
        }
    }

    /** Width of one attention head. */
    public int headDim() {
        return dModel / heads;
    }

    /** Side of the image token grid. */
    public int imageGrid() {
        return ResNetConfig.gridSize(imageSize);
    }

    /** Number of image tokens, {@code imageGrid()^2}. */
    public int imageTokens() {
        int g = imageGrid();
        return g * g;
    }

    /** Query and position scaling, {@code (attnScaleFactor * headDim)^-1/2}. */
    public double queryScale() {
        return Math.pow(attnScaleFactor * headDim(), -0.5);
    }

    /**
     * The largest relative distance that 1-D token buckets are scaled over: the conventions'
     * {@code tokenBucketPositions}, or {@code maxPositions} when they say 0.
     */
    public int tokenBucketPositions() {
        return conventions.tokenBucketPositions() == 0 ? maxPositions : conventions.tokenBucketPositions();
    }

    /** The same config under another name and image size (the image size of a fine-tune varies). */
    public ModelConfig withImageSize(int size) {
        return new ModelConfig(name, dModel, encoderLayers, decoderLayers, heads, ffnDim, vocabSize, maxPositions,
                tokenBucketSize, imageBucketSize, size, resnet, attnScaleFactor, layerNormEps, conventions);
    }

    /** The same config with another vocabulary size. */
    public ModelConfig withVocabSize(int size) {
        return new ModelConfig(name, dModel, encoderLayers, decoderLayers, heads, ffnDim, size, maxPositions,
                tokenBucketSize, imageBucketSize, imageSize, resnet, attnScaleFactor, layerNormEps, conventions);
    }

    /** The same config with other {@link Conventions} (e.g. {@link Conventions#OFA} for an imported checkpoint). */
    public ModelConfig withConventions(Conventions c) {
        return new ModelConfig(name, dModel, encoderLayers, decoderLayers, heads, ffnDim, vocabSize, maxPositions,
                tokenBucketSize, imageBucketSize, imageSize, resnet, attnScaleFactor, layerNormEps, c);
    }

    private static ModelConfig ofa(String name, int d, int enc, int dec, int heads, int ffn, ResNetConfig resnet) {
        return new ModelConfig(name, d, enc, dec, heads, ffn, OFA_VOCAB_SIZE, 1024, 256, 42, 480, resnet, 2.0, 1e-5);
    }

    private static final Map<String, ModelConfig> PRESETS = List.of(
            ofa("ofa-tiny", 256, 4, 4, 4, 1024, ResNetConfig.resnet50()),
            ofa("ofa-medium", 512, 4, 4, 8, 2048, ResNetConfig.resnet101()),
            ofa("ofa-base", 768, 6, 6, 12, 3072, ResNetConfig.resnet101()),
            ofa("ofa-large", 1024, 12, 12, 16, 4096, ResNetConfig.resnet152()),
            ofa("ofa-huge", 1280, 24, 12, 16, 5120, ResNetConfig.resnet152()),
            new ModelConfig("mue-demo", 128, 4, 4, 4, 512, 1024, 64, 16, 8, 64,
                    new ResNetConfig(16, 16, new int[] {1, 1, 1}), 2.0, 1e-5))
            .stream().collect(Collectors.toUnmodifiableMap(ModelConfig::name, Function.identity()));

    /**
     * A named preset: {@code ofa-tiny}, {@code ofa-medium}, {@code ofa-base}, {@code ofa-large},
     * {@code ofa-huge} (OFA's architectures at 480 px), or {@code mue-demo} (a small model for
     * tests and the bundled default). The {@code ofa-} prefix may be omitted.
     *
     * @throws IllegalArgumentException naming the known presets when {@code name} is not one
     */
    public static ModelConfig preset(String name) {
        String key = name.toLowerCase(Locale.ROOT);
        ModelConfig c = PRESETS.get(key);
        if (c == null) {
            c = PRESETS.get("ofa-" + key);
        }
        if (c == null) {
            throw new IllegalArgumentException("unknown preset '" + name + "'; known: " + presetNames());
        }
        return c;
    }

    /** Names of every preset, sorted. */
    public static List<String> presetNames() {
        return PRESETS.keySet().stream().sorted().toList();
    }
}
