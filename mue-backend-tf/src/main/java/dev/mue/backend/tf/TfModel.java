package dev.mue.backend.tf;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * {@link TfWeights} as operands of one execution environment, made on first use: variables of the
 * session graph, constants of an eager session, or the arguments of a TF function (whose caller
 * then passes the variables, in {@link #used()} order). A host array shared between layers is one
 * operand.
 */
final class TfModel {
    final TfWeights host;
    private final Function<TfWeights.Host, Operand<TFloat32>> source;
    private final Map<TfWeights.Host, Operand<TFloat32>> made = new IdentityHashMap<>();
    private final List<TfWeights.Host> used = new ArrayList<>();

    /** A convolution as operands. */
    record Conv(Operand<TFloat32> filter, Operand<TFloat32> shift, int kernel, int stride, int pad) {
    }

    /** A bottleneck block as operands. */
    record Block(Conv c1, Conv c2, Conv c3, Conv down) {
    }

    private TfModel(TfWeights host, Function<TfWeights.Host, Operand<TFloat32>> source) {
        this.host = host;
        this.source = source;
    }

    /** Every weight a constant of {@code tf}'s environment, made on first use. */
    static TfModel constants(Ops tf, TfWeights w) {
        return new TfModel(w, h -> tf.constant(Shape.of(h.shape()), DataBuffers.of(h.data(), true, false)));
    }

    /** Every weight a variable of {@code tf}'s graph initialised from a constant, made on first use. */
    static TfModel variables(Ops tf, TfWeights w) {
        return new TfModel(w, h -> tf.variable(tf.constant(Shape.of(h.shape()), DataBuffers.of(h.data(), true, false))));
    }

    /** Every weight an operand made by {@code source} on first use (a function's argument). */
    static TfModel of(TfWeights w, Function<TfWeights.Host, Operand<TFloat32>> source) {
        return new TfModel(w, source);
    }

    /** The operand of a host array. */
    synchronized Operand<TFloat32> of(TfWeights.Host h) {
        Operand<TFloat32> o = made.get(h);
        if (o == null) {
            o = source.apply(h);
            made.put(h, o);
            used.add(h);
        }
        return o;
    }

    /** Makes every host array into an operand now (the session graph's variables, before initialisation). */
    void makeAll() {
        host.all().forEach(this::of);
    }

    /** The host arrays made into operands so far, in order. */
    synchronized List<TfWeights.Host> used() {
        return List.copyOf(used);
    }

    private List<Operand<TFloat32>> all(List<TfWeights.Host> hs) {
        return hs == null ? null : hs.stream().map(this::of).toList();
    }

    Operand<TFloat32> embedTokens() {
        return of(host.embedTokens);
    }

    Operand<TFloat32> typeText() {
        return of(host.typeText);
    }

    Operand<TFloat32> typeImage() {
        return of(host.typeImage);
    }

    Operand<TFloat32> textEmbedLnW() {
        return of(host.textEmbedLnW);
    }

    Operand<TFloat32> textEmbedLnB() {
        return of(host.textEmbedLnB);
    }

    Operand<TFloat32> imageEmbedLnW() {
        return of(host.imageEmbedLnW);
    }

    Operand<TFloat32> imageEmbedLnB() {
        return of(host.imageEmbedLnB);
    }

    Operand<TFloat32> imageProjW() {
        return of(host.imageProjW);
    }

    Operand<TFloat32> imageProjB() {
        return of(host.imageProjB);
    }

    Operand<TFloat32> encoderOutLnW() {
        return of(host.encoderOutLnW);
    }

    Operand<TFloat32> encoderOutLnB() {
        return of(host.encoderOutLnB);
    }

    Operand<TFloat32> decoderEmbedLnW() {
        return of(host.decoderEmbedLnW);
    }

    Operand<TFloat32> decoderEmbedLnB() {
        return of(host.decoderEmbedLnB);
    }

    Operand<TFloat32> decoderOutLnW() {
        return of(host.decoderOutLnW);
    }

    Operand<TFloat32> decoderOutLnB() {
        return of(host.decoderOutLnB);
    }

    /** Every encoder layer's slots, concatenated (layer l starts at {@code (l-1) * ENCODER_SLOTS}). */
    List<Operand<?>> encoder() {
        List<Operand<?>> out = new ArrayList<>();
        host.encoder.forEach(l -> out.addAll(all(l)));
        return out;
    }

    /** Every decoder layer's slots, concatenated (layer l starts at {@code (l-1) * DECODER_SLOTS}). */
    List<Operand<?>> decoder() {
        List<Operand<?>> out = new ArrayList<>();
        host.decoder.forEach(l -> out.addAll(all(l)));
        return out;
    }

    /** Decoder layer {@code l} (0-based): cross k weight, k bias, v weight, v bias. */
    List<Operand<TFloat32>> cross(int l) {
        return all(host.cross.get(l));
    }

    Conv stem() {
        return conv(host.stem);
    }

    List<Block> blocks() {
        List<Block> out = new ArrayList<>();
        for (TfWeights.Block b : host.blocks) {
            out.add(new Block(conv(b.c1()), conv(b.c2()), conv(b.c3()), b.down() == null ? null : conv(b.down())));
        }
        return out;
    }

    List<Operand<TFloat32>> textBias() {
        return all(host.textBias);
    }

    List<Operand<TFloat32>> imageBias() {
        return all(host.imageBias);
    }

    List<Operand<TFloat32>> jointBias() {
        return all(host.jointBias);
    }

    List<Operand<TFloat32>> decoderSelfBias() {
        return all(host.decoderSelfBias);
    }

    Operand<TFloat32> crossBias() {
        return of(host.crossBias);
    }

    private Conv conv(TfWeights.Conv k) {
        return new Conv(of(k.filter()), of(k.shift()), k.kernel(), k.stride(), k.pad());
    }
}
