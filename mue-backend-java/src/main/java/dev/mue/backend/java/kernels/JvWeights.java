package dev.mue.backend.java.kernels;

/**
 * The weights of a linear layer or a convolution, prepared once by {@link JvKernels#packLinear} or
 * {@link JvKernels#packConv} for every later call: the fast kernels lay them out in column panels
 * that their micro-kernels stream, the control keeps them as given. Immutable; only the kernels that
 * made an instance may use it.
 *
 * <p>A linear layer's weights are given {@code [out, in]} (PyTorch's layout), a convolution's
 * {@code [out, inC, kernel, kernel]}. The control keeps that array by reference; the fast kernels
 * keep only their panels, so that weights made for the call (such as fused projections) are not
 * held twice.
 */
public final class JvWeights {
    /** The weights as given, kept by the control only (null otherwise). */
    final float[] source;
    private final int out;
    private final int in;
    private final int inChannels;
    private final int kernel;
    final Object owner;
    /** Panels of {@link #panelWidth} output columns, each {@code [reduction][panelWidth]}; null for the control. */
    final float[] panels;
    final int panelWidth;
    /**
     * A 3x3 convolution's weights in the Winograd domain, for stride 1 and padding 1 only: the 16
     * matrices {@code (G g G^T)[xi]}, each {@code [out, inC]} packed as a linear layer's; null when
     * the weights are {@link #panels} or {@link #source}.
     */
    final JvWeights[] winograd;

    JvWeights(float[] source, int out, int inChannels, int kernel, Object owner, float[] panels, int panelWidth) {
        this(source, out, inChannels, kernel, owner, panels, panelWidth, null);
    }

    JvWeights(float[] source, int out, int inChannels, int kernel, Object owner, float[] panels, int panelWidth,
            JvWeights[] winograd) {
        this.source = source;
        this.winograd = winograd;
        this.out = out;
        this.inChannels = inChannels;
        this.kernel = kernel;
        this.in = inChannels * kernel * kernel;
        this.owner = owner;
        this.panels = panels;
        this.panelWidth = panelWidth;
    }

    /** Checks the dimensions of weights given {@code [out, inC, kernel, kernel]} (a linear layer: kernel 1). */
    static void check(float[] w, int out, int inC, int kernel) {
        if (out <= 0 || inC <= 0 || kernel <= 0) {
            throw new IllegalArgumentException("weights need positive dimensions, got out " + out + " in " + inC
                    + " kernel " + kernel);
        }
        if ((long) out * inC * kernel * kernel != w.length) {
            throw new IllegalArgumentException("weights hold " + w.length + " values, expected " + out + "x" + inC
                    + (kernel == 1 ? "" : "x" + kernel + "x" + kernel));
        }
    }

    /** Output features (channels). */
    public int out() {
        return out;
    }

    /** The reduction length: input features, or {@code inC * kernel * kernel} for a convolution. */
    public int in() {
        return in;
    }

    /** Input channels of a convolution (the input features of a linear layer). */
    public int inChannels() {
        return inChannels;
    }

    /** The convolution's kernel side (1 for a linear layer). */
    public int kernel() {
        return kernel;
    }

    /** Throws unless these weights were made by {@code kernels}. */
    void requireOwner(Object kernels) {
        if (owner != kernels) {
            throw new IllegalArgumentException("weights were packed by other kernels (" + owner + ")");
        }
    }
}
