package dev.mue.backend.java;

import dev.mue.backend.java.kernels.JvBuffers;
import dev.mue.backend.java.kernels.JvKernels;

/**
 * The truncated ResNet image backbone on one image: 7x7/2 stem, BatchNorm, ReLU, 3x3/2 max-pool,
 * three bottleneck stages (stride on the 3x3 conv); output stride 16. Feature maps are
 * channels-last ({@code [h, w, C]}), so that every convolution is a product of pixels by packed
 * weights with its BatchNorm, residual and ReLU applied as each output tile is finished, and the
 * output is already the image's token sequence. Feature maps come from and go back to the
 * backend's {@link JvBuffers} as soon as their last reader is done (the kernels do the same with
 * the zero-bordered copies that padded convolutions read).
 */
final class JvResNet {
    private final JvParams p;
    private final JvKernels k;
    private final JvOps ops;
    private final JvBuffers buffers;

    JvResNet(JvParams params, JvKernels kernels, JvOps ops) {
        this.p = params;
        this.k = kernels;
        this.ops = ops;
        this.buffers = ops.buffers;
    }

    /** A channels-last feature map {@code [h, w, channels]}. */
    record Map(float[] data, int channels, int h, int w) {
    }

    /**
     * Runs the backbone on a CHW image of side {@code size}; returns the {@code [g, g, C]} features,
     * whose array the caller may give back to the buffers.
     */
    Map forward(float[] image, int size) {
        Map in = channelsLast(image, 3, size);
        Map stem = conv(in, p.stem, true, null);
        buffers.give(in.data());
        Map x = maxPool(stem);
        buffers.give(stem.data());
        for (JvParams.Bottleneck[] stage : p.stages) {
            for (JvParams.Bottleneck b : stage) {
                Map y1 = conv(x, b.c1(), true, null);
                Map y2 = conv(y1, b.c2(), true, null);
                buffers.give(y1.data());
                Map shortcut = b.down() == null ? x : conv(x, b.down(), false, null);
                // Written over the shortcut, which nothing reads afterwards.
                Map next = conv(y2, b.c3(), true, shortcut.data());
                buffers.give(y2.data());
                if (shortcut != x) {
                    buffers.give(x.data());
                }
                x = next;
            }
        }
        return x;
    }

    /**
     * {@code relu?(bn(conv(x)) + residual)}, written over the residual when there is one (the
     * residual is read just before each output is written, and no other array of that size is
     * brought into cache), else into an array from the buffers.
     */
    private Map conv(Map in, JvParams.Conv c, boolean relu, float[] residual) {
        int kernel = c.kernel();
        int oh = (in.h() + 2 * c.pad() - kernel) / c.stride() + 1;
        int ow = (in.w() + 2 * c.pad() - kernel) / c.stride() + 1;
        float[] out = residual != null ? residual : buffers.take(oh * ow * c.out());
        k.conv2d(in.data(), in.h(), in.w(), c.w(), c.stride(), c.pad(), c.scale(), c.shift(), residual, relu, out, oh,
                ow);
        return new Map(out, c.out(), oh, ow);
    }

    private Map channelsLast(float[] chw, int channels, int size) {
        int plane = size * size;
        float[] out = buffers.take(plane * channels);
        for (int ch = 0; ch < channels; ch++) {
            for (int i = 0; i < plane; i++) {
                out[i * channels + ch] = chw[ch * plane + i];
            }
        }
        return new Map(out, channels, size, size);
    }

    /**
     * 3x3, stride 2, padding 1; the channels of a pixel are contiguous, which the JIT vectorises;
     * output rows in parallel.
     */
    private Map maxPool(Map in) {
        int ch = in.channels();
        int oh = (in.h() + 2 - 3) / 2 + 1;
        int ow = (in.w() + 2 - 3) / 2 + 1;
        float[] src = in.data();
        float[] out = buffers.take(oh * ow * ch);
        ops.forEach(oh, (long) ow * ch * 9, y -> {
            java.util.Arrays.fill(out, y * ow * ch, (y + 1) * ow * ch, Float.NEGATIVE_INFINITY);
            for (int x = 0; x < ow; x++) {
                int o = (y * ow + x) * ch;
                for (int dy = 0; dy < 3; dy++) {
                    int iy = y * 2 + dy - 1;
                    if (iy < 0 || iy >= in.h()) {
                        continue;
                    }
                    for (int dx = 0; dx < 3; dx++) {
                        int ix = x * 2 + dx - 1;
                        if (ix < 0 || ix >= in.w()) {
                            continue;
                        }
                        int i = (iy * in.w() + ix) * ch;
                        for (int c = 0; c < ch; c++) {
                            out[o + c] = Math.max(out[o + c], src[i + c]);
                        }
                    }
                }
            }
        });
        return new Map(out, ch, oh, ow);
    }
}
