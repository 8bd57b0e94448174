package dev.mue.api.plan;

/**
 * A constant-folded attention bias for one attention site: the absolute-position bias (shared by
 * every layer of a stack) plus, per layer, a relative-position bias looked up through a bucket
 * index.
 *
 * <p>The value added to the attention logit of head {@code h}, query position {@code i} and key
 * position {@code j} at layer {@code l} is {@link #at(int, int, int, int)}. Positions index the
 * folded maximum shape; a shorter sequence uses the top-left block. Instances are immutable.
 *
 * @param name    which site, e.g. {@code encoder.text}
 * @param heads   H
 * @param rows    query positions folded
 * @param cols    key positions folded
 * @param abs     absolute bias {@code [H, rows, cols]}
 * @param bucket  relative bucket per {@code [rows, cols]} entry, or -1 for none; null when the site
 *                has no relative bias
 * @param tables  per layer, the relative table {@code [buckets, H]}; null when {@code bucket} is
 */
public record BiasBlock(String name, int heads, int rows, int cols, float[] abs, int[] bucket, float[][] tables) {

    /** Checks the array sizes against the dimensions. */
    public BiasBlock {
        if (abs.length != (long) heads * rows * cols) {
            throw new IllegalArgumentException(name + ": abs bias has " + abs.length + " values, expected "
                    + heads + "x" + rows + "x" + cols);
        }
        if ((bucket == null) != (tables == null)) {
            throw new IllegalArgumentException(name + ": bucket index and tables go together");
        }
        if (bucket != null && bucket.length != rows * cols) {
            throw new IllegalArgumentException(name + ": bucket index has " + bucket.length + " entries, expected "
                    + rows + "x" + cols);
        }
    }

    /** Bias for layer {@code layer} (0-based), head {@code h}, query {@code i}, key {@code j}. */
    public float at(int layer, int h, int i, int j) {
        float v = abs[(h * rows + i) * cols + j];
        if (bucket != null) {
            int b = bucket[i * cols + j];
            if (b >= 0) {
                v += tables[layer][b * heads + h];
            }
        }
        return v;
    }

    /** Whether this site has a relative bias. */
    public boolean hasRelative() {
        return bucket != null;
    }

    /**
     * The dense bias of every layer, {@code [H, rows, cols]} each, in the folded shape: the one
     * expansion every backend uses. Without a relative part every layer gets the same array,
     * {@link #abs()}; with one, each layer a new array. Not to be modified.
     */
    public float[][] denseLayers(int layers) {
        float[][] out = new float[layers][];
        int plane = rows * cols;
        for (int l = 0; l < layers; l++) {
            if (!hasRelative()) {
                out[l] = abs;
                continue;
            }
            float[] m = new float[heads * plane];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        m[h * plane + i * cols + j] = at(l, h, i, j);
                    }
                }
            }
            out[l] = m;
        }
        return out;
    }
}
