package dev.mue.api.model;

import java.util.Arrays;

/**
 * Shape of the truncated ResNet image backbone: a 7x7/2 stem and three bottleneck stages.
 *
 * <p>Stage {@code s} (0-based) has bottleneck width {@code baseWidth * 2^s} and output width
 * {@code 4 * baseWidth * 2^s}; stages 2 and 3 halve the resolution on their first block's 3x3
 * conv, so the backbone's output stride is 16 and its output width {@code 16 * baseWidth}.
 *
 * @param stemChannels output channels of the 7x7 stem convolution (64 in OFA)
 * @param baseWidth    bottleneck width of the first stage (64 in OFA)
 * @param blocks       bottleneck blocks per stage, exactly three entries ([3, 4, 6] for ResNet50)
 */
public record ResNetConfig(int stemChannels, int baseWidth, int[] blocks) {

    /** Validates positive widths and exactly three positive block counts. */
    public ResNetConfig {
        if (stemChannels <= 0 || baseWidth <= 0) {
            throw new IllegalArgumentException("ResNet widths must be positive, got stem " + stemChannels
                    + " base " + baseWidth);
        }
        if (blocks == null || blocks.length != 3 || Arrays.stream(blocks).anyMatch(b -> b <= 0)) {
            throw new IllegalArgumentException("ResNet needs three positive stage block counts, got "
                    + Arrays.toString(blocks));
        }
        // Stage widths double twice and outputs are four times wider: keep 16 * baseWidth and every
        // convolution's weight count well inside an int.
        if (stemChannels > MAX_WIDTH || baseWidth > MAX_WIDTH) {
            throw new IllegalArgumentException("ResNet widths must be at most " + MAX_WIDTH + ", got stem "
                    + stemChannels + " base " + baseWidth);
        }
        blocks = blocks.clone();
    }

    /** Largest stem or base width accepted (OFA's are 64). */
    public static final int MAX_WIDTH = 4096;

    /** ResNet50's first three stages, as in {@code ofa-tiny}. */
    public static ResNetConfig resnet50() {
        return new ResNetConfig(64, 64, new int[] {3, 4, 6});
    }

    /** ResNet101's first three stages, as in {@code ofa-medium} and {@code ofa-base}. */
    public static ResNetConfig resnet101() {
        return new ResNetConfig(64, 64, new int[] {3, 4, 23});
    }

    /** ResNet152's first three stages, as in {@code ofa-large} and {@code ofa-huge}. */
    public static ResNetConfig resnet152() {
        return new ResNetConfig(64, 64, new int[] {3, 8, 36});
    }

    /** A copy of the per-stage block counts. */
    @Override
    public int[] blocks() {
        return blocks.clone();
    }

    /** Blocks in stage {@code s} (0-based). */
    public int blocks(int stage) {
        return blocks[stage];
    }

    /** Bottleneck (3x3 conv) width of stage {@code s}. */
    public int width(int stage) {
        return baseWidth << stage;
    }

    /** Output channels of stage {@code s}: four times its bottleneck width. */
    public int outChannels(int stage) {
        return 4 * width(stage);
    }

    /** Channels of the backbone's output feature map, the input width of {@code image_proj}. */
    public int outputChannels() {
        return outChannels(2);
    }

    /** Side of the output grid for an {@code imageSize x imageSize} input (output stride 16). */
    public static int gridSize(int imageSize) {
        int s = imageSize;
        for (int i = 0; i < 4; i++) {
            s = (s + 1) / 2; // every stride-2 op here is padded so that out = ceil(in / 2)
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResNetConfig r && r.stemChannels == stemChannels && r.baseWidth == baseWidth
                && Arrays.equals(r.blocks, blocks);
    }

    @Override
    public int hashCode() {
        return (stemChannels * 31 + baseWidth) * 31 + Arrays.hashCode(blocks);
    }

    @Override
    public String toString() {
        return "ResNetConfig[stem=" + stemChannels + ", base=" + baseWidth + ", blocks=" + Arrays.toString(blocks) + "]";
    }
}
