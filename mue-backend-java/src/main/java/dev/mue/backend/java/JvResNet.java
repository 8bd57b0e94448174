package dev.mue.backend.java;

import dev.mue.api.model.ResolvedWeights;
import dev.mue.backend.java.kernels.JvKernels;

/**
 * The truncated ResNet image backbone on one image: 7x7/2 stem, BatchNorm, ReLU, 3x3/2 max-pool,
 * three bottleneck stages (stride on the 3x3 conv); output stride 16.
 */
final class JvResNet {
    private final JvParams p;
    private final JvKernels k;

    JvResNet(JvParams params, JvKernels kernels) {
        this.p = params;
        this.k = kernels;
    }

    /** A CHW feature map. */
    record Map(float[] data, int channels, int h, int w) {
    }

    /** Runs the backbone on a CHW image of side {@code size}; returns the {@code [C, g, g]} features. */
    Map forward(float[] image, int size) {
        Map x = convBn(new Map(image, 3, size, size), p.stem, true);
        x = maxPool(x);
        for (ResolvedWeights.Bottleneck[] stage : p.stages) {
            for (ResolvedWeights.Bottleneck b : stage) {
                Map y = convBn(x, b.c1(), true);
                y = convBn(y, b.c2(), true);
                y = convBn(y, b.c3(), false);
                Map shortcut = b.down() == null ? x : convBn(x, b.down(), false);
                float[] o = y.data();
                float[] s = shortcut.data();
                for (int i = 0; i < o.length; i++) {
                    o[i] = Math.max(0f, o[i] + s[i]);
                }
                x = y;
            }
        }
        return x;
    }

    private Map convBn(Map in, ResolvedWeights.ConvBn c, boolean relu) {
        int oh = (in.h() + 2 * c.pad() - c.kernel()) / c.stride() + 1;
        int ow = (in.w() + 2 * c.pad() - c.kernel()) / c.stride() + 1;
        float[] out = new float[c.out() * oh * ow];
        k.conv2d(in.data(), c.in(), in.h(), in.w(), c.w(), c.out(), c.kernel(), c.stride(), c.pad(), out, oh, ow);
        int plane = oh * ow;
        for (int ch = 0; ch < c.out(); ch++) {
            float sc = c.scale()[ch];
            float sh = c.shift()[ch];
            for (int i = ch * plane; i < (ch + 1) * plane; i++) {
                float v = out[i] * sc + sh;
                out[i] = relu ? Math.max(0f, v) : v;
            }
        }
        return new Map(out, c.out(), oh, ow);
    }

    private static Map maxPool(Map in) {
        int oh = (in.h() + 2 - 3) / 2 + 1;
        int ow = (in.w() + 2 - 3) / 2 + 1;
        float[] out = new float[in.channels() * oh * ow];
        for (int ch = 0; ch < in.channels(); ch++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    float m = Float.NEGATIVE_INFINITY;
                    for (int dy = 0; dy < 3; dy++) {
                        int iy = y * 2 + dy - 1;
                        if (iy < 0 || iy >= in.h()) {
                            continue;
                        }
                        for (int dx = 0; dx < 3; dx++) {
                            int ix = x * 2 + dx - 1;
                            if (ix >= 0 && ix < in.w()) {
                                m = Math.max(m, in.data()[(ch * in.h() + iy) * in.w() + ix]);
                            }
                        }
                    }
                    out[(ch * oh + y) * ow + x] = m;
                }
            }
        }
        return new Map(out, in.channels(), oh, ow);
    }
}
