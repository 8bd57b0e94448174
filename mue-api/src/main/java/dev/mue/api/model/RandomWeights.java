package dev.mue.api.model;

import dev.mue.api.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded random weights for any {@link ModelConfig}: the same seed always gives the same tensors.
 *
 * <p>Linear and embedding weights are drawn from N(0, std^2); LayerNorm and BatchNorm scales are
 * near 1 and their shifts near 0, with a little noise so that no test passes by symmetry; running
 * variances are positive. Used for tests, the TCK and {@code mue init}.
 */
public final class RandomWeights {
    private RandomWeights() {
    }

    /** Weights with standard deviation 0.02 for matrices, as OFA initialises them. */
    public static Weights generate(ModelConfig config, long seed) {
        return generate(config, seed, 0.02);
    }

    /** Weights with the given standard deviation for matrices and embeddings. */
    public static Weights generate(ModelConfig config, long seed, double std) {
        List<FloatTensor> out = new ArrayList<>();
        for (Map.Entry<String, int[]> e : WeightLayout.expected(config).entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue();
            int n = 1;
            for (int s : shape) {
                n *= s;
            }
            // One child generator per tensor keeps each tensor stable when others are added.
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
            float[] data = new float[n];
            boolean norm = name.contains("layernorm") || name.contains("layer_norm") || name.contains("_ln.")
                    || name.contains("attn_ln") || name.matches(".*\\.bn\\d\\..*") || name.contains("bn1.")
                    || name.contains("downsample.1.");
            if (name.endsWith("running_var")) {
                for (int i = 0; i < n; i++) {
                    data[i] = (float) (0.5 + r.nextDouble());
                }
            } else if (name.endsWith("running_mean")) {
                for (int i = 0; i < n; i++) {
                    data[i] = (float) (0.1 * gaussian(r));
                }
            } else if (name.endsWith("c_attn")) {
                for (int i = 0; i < n; i++) {
                    data[i] = (float) (1 + 0.1 * gaussian(r));
                }
            } else if (norm && name.endsWith(".weight")) {
                for (int i = 0; i < n; i++) {
                    data[i] = (float) (1 + 0.05 * gaussian(r));
                }
            } else if (norm || name.endsWith(".bias")) {
                for (int i = 0; i < n; i++) {
                    data[i] = (float) (0.02 * gaussian(r));
                }
            } else if (shape.length == 4) {
                int fanIn = shape[1] * shape[2] * shape[3];
                double s = Math.sqrt(2.0 / fanIn);
                for (int i = 0; i < n; i++) {
                    data[i] = (float) (s * gaussian(r));
                }
            } else {
                for (int i = 0; i < n; i++) {
                    data[i] = (float) (std * gaussian(r));
                }
            }
            out.add(new FloatTensor(name, shape, data));
        }
        return new Weights(out);
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller: SplittableRandom has no nextGaussian before JDK 17's RandomGenerator default.
        double u1 = r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
