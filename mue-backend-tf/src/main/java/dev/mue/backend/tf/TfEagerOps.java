package dev.mue.backend.tf;

import dev.mue.api.exit.GateMeasure;
import dev.mue.api.layer.LayerOps;
import dev.mue.api.layer.Workspace;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.plan.KvFill;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.Stream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.EagerSession;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;

/**
 * The eager mode as layer operations: the same {@link TfStage} and {@link TfLayers} ops as the
 * compiled graphs, run one by one in a TF eager context and driven by the runtime, which decides
 * every gate on the host. It is the tests' second oracle for the graphs (the same arithmetic,
 * different control flow), and it runs plans whose gate criterion the graphs do not compile. Each
 * segment is its own tensor, as each example is its own chain in the graphs. TF's eager context is
 * used by one thread at a time.
 */
final class TfEagerOps implements LayerOps<TfEagerOps.States, TfEagerOps.Memory, TfEagerOps.Caches> {

    /** Segments, each {@code [tokens, d]}. */
    record States(List<Operand<TFloat32>> segments) {
    }

    /** Per example the encoder output {@code [N, d]} and its cross keys and values by decoder layer (1-based). */
    static final class Memory {
        final List<Operand<TFloat32>> outputs;
        final Operand<?>[][] crossK;
        final Operand<?>[][] crossV;

        Memory(List<Operand<TFloat32>> outputs, int layers) {
            this.outputs = outputs;
            this.crossK = new Operand<?>[outputs.size()][layers + 1];
            this.crossV = new Operand<?>[outputs.size()][layers + 1];
        }
    }

    /**
     * Per row, the decoder stage's cache operands (keys, values, key masks per layer), each a batch
     * of that one row ({@code [1, P, d]}, {@code [1, P]}), as the graphs keep a step's rows.
     */
    static final class Caches {
        final List<List<Operand<?>>> rows;

        Caches(List<List<Operand<?>>> rows) {
            this.rows = rows;
        }
    }

    private final ModelConfig c;
    private final TfLayers ops;
    private final EagerSession session;
    private final Ops tf;
    private final TfModel model;
    private final int positions;
    private final TfStage.Encoder encoderStage;
    private final TfStage.Decoder decoderStage;
    private final TfStage.Scorer scorerStage;
    private volatile boolean closed;

    TfEagerOps(Plan plan, TfBackend backend) {
        this.c = plan.config();
        this.ops = new TfLayers(c);
        TfWeights weights = new TfWeights(plan);
        this.positions = (int) weights.decoderSelfBias.get(0).shape()[2];
        this.session = EagerSession.options().config(backend.config()).build();
        try {
            this.tf = Ops.create(session);
            this.model = TfModel.constants(tf, weights);
        } catch (RuntimeException e) {
            session.close();
            throw TfNatives.translate("preparing plan " + c.name() + " (eager)", e);
        }
        this.encoderStage = new TfStage.Encoder(weights, plan, plan.encoderStreams().get(0), ops, "enc");
        this.decoderStage = new TfStage.Decoder(weights, plan, ops, positions, true);
        this.scorerStage = new TfStage.Scorer(weights, plan, ops);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("executable is closed");
        }
    }

    @Override
    public Workspace workspace() {
        checkOpen();
        return Workspace.none();
    }

    private Operand<TInt32> ints(int... v) {
        return tf.constant(v);
    }

    private static float[] host(Operand<TFloat32> x) {
        return TfTensors.floats(x.asTensor());
    }

    /** Runs {@code body} on TF's eager context, mapping its errors. */
    private synchronized <T> T eager(String what, java.util.function.Supplier<T> body) {
        checkOpen();
        try {
            return body.get();
        } catch (RuntimeException e) {
            throw TfNatives.translate(what + " (eager)", e);
        }
    }

    // ------------------------------------------------------------------ encoder stage

    @Override
    public States embedImages(Workspace ws, List<float[]> images) {
        int size = c.imageSize();
        return eager("image embedding", () -> new States(images.stream().map(im -> ops.embedImage(tf, model,
                tf.constant(Shape.of(3, size, size), DataBuffers.of(im, true, false)), size)).toList()));
    }

    @Override
    public States embedTexts(Workspace ws, List<int[]> texts) {
        return eager("text embedding", () -> new States(texts.stream().map(t -> ops.embedText(tf, model, ints(t))).toList()));
    }

    @Override
    public States concat(Workspace ws, States a, States b) {
        return eager("concat", () -> {
            List<Operand<TFloat32>> out = new ArrayList<>();
            for (int i = 0; i < a.segments().size(); i++) {
                out.add(tf.concat(List.of(a.segments().get(i), b.segments().get(i)), tf.constant(0)));
            }
            return new States(out);
        });
    }

    @Override
    public States encoderLayer(Workspace ws, Stream stream, int layer, States x) {
        List<Operand<TFloat32>> bias = switch (stream) {
            case IMAGE -> model.imageBias();
            case TEXT -> model.textBias();
            case JOINT -> model.jointBias();
            case DECODER -> throw new IllegalArgumentException("encoder layer on the decoder stream");
        };
        return eager("encoder layer " + layer, () -> {
            List<Operand<TFloat32>> out = new ArrayList<>();
            List<Operand<?>> w = new ArrayList<>(model.encoder());
            for (Operand<TFloat32> seg : x.segments()) {
                Operand<TInt32> len = TfContext.rowsOf(tf, seg);
                List<Operand<?>> ctx = TfContext.biasSlices(tf, c.heads(), bias, len, len);
                out.add(encoderStage.layer(tf, layer, seg, ctx, List.of(), w).y());
            }
            return new States(out);
        });
    }

    @Override
    public Memory encoderOutput(Workspace ws, States x) {
        return eager("encoder output", () -> new Memory(x.segments().stream()
                .map(seg -> ops.encoderOutput(tf, model, List.of(seg))).toList(), c.decoderLayers()));
    }

    @Override
    public float[] memoryRows(Memory memory, int example) {
        return eager("encoder output", () -> host(memory.outputs.get(example)));
    }

    /**
     * Nothing to do ahead: a decoding step makes a layer's cross keys on its first use
     * ({@link #crossOf}), and a scoring pass makes them inside each layer, as the graphs do.
     */
    @Override
    public void prepareCross(Memory m, int layer, int[] examples) {
        // Made where they are used, still at most once per example and layer.
    }

    /**
     * An example's cross keys (layers 1..L) then values (layers 1..L), as the stages' context
     * lists them, with layer {@code layer}'s made if it was not yet; a layer no token has reached is
     * null and is never read.
     */
    private List<Operand<?>> crossOf(Memory m, int example, int layer) {
        if (m.crossK[example][layer] == null) {
            List<Operand<TFloat32>> w = model.cross(layer - 1);
            Operand<TFloat32> out = m.outputs.get(example);
            m.crossK[example][layer] = TfLayers.linear(tf, out, w.get(0), w.get(1));
            m.crossV[example][layer] = TfLayers.linear(tf, out, w.get(2), w.get(3));
        }
        List<Operand<?>> out = new ArrayList<>();
        int layers = c.decoderLayers();
        for (int l = 1; l <= layers; l++) {
            out.add(m.crossK[example][l]);
        }
        for (int l = 1; l <= layers; l++) {
            out.add(m.crossV[example][l]);
        }
        return out;
    }

    // ------------------------------------------------------------------ decoder stage

    @Override
    public States embedDecoder(Workspace ws, int[][] sequences) {
        return eager("decoder embedding", () -> new States(Arrays.stream(sequences)
                .map(s -> ops.embedDecoder(tf, model, ints(s))).toList()));
    }

    @Override
    public Caches caches(Workspace ws, int rows, int capacity) {
        return eager("decoder caches", () -> {
            int layers = c.decoderLayers();
            float[] minusInf = new float[positions];
            Arrays.fill(minusInf, Float.NEGATIVE_INFINITY);
            Operand<TFloat32> zeros = tf.zeros(ints(1, positions, c.dModel()), TFloat32.class);
            Operand<TFloat32> mask = tf.constant(new float[][] {minusInf});
            List<Operand<?>> empty = new ArrayList<>();
            for (int l = 0; l < 2 * layers; l++) {
                empty.add(zeros);
            }
            for (int l = 0; l < layers; l++) {
                empty.add(mask);
            }
            List<List<Operand<?>>> all = new ArrayList<>();
            for (int r = 0; r < rows; r++) {
                all.add(empty);
            }
            return new Caches(all);
        });
    }

    @Override
    public States decoderStep(Workspace ws, int layer, States x, Caches caches, int[] rows, int[] positions,
            Memory memory, int[] examples) {
        return eager("decoder layer " + layer, () -> {
            List<Operand<?>> w = new ArrayList<>(model.decoder());
            List<Operand<TFloat32>> out = new ArrayList<>();
            for (int i = 0; i < rows.length; i++) {
                TfStage.Step s = decoderStage.layer(tf, layer, x.segments().get(i),
                        rowContext(memory, examples[i], layer, positions[i]), caches.rows.get(rows[i]), w);
                caches.rows.set(rows[i], s.cache());
                out.add(s.y());
            }
            return new States(out);
        });
    }

    /**
     * The decoder stage's context for one row at {@code position} of {@code example}, as a batch of
     * that one row: its caches are row 0 of their own, its example the only one of the cross keys
     * (no padding).
     */
    private List<Operand<?>> rowContext(Memory memory, int example, int layer, int position) {
        List<Operand<?>> cross = new ArrayList<>();
        Operand<TInt32> first = tf.constant(0);
        for (Operand<?> kv : crossOf(memory, example, layer)) {
            cross.add(kv == null ? null : tf.expandDims(TfStage.f32(kv), first));
        }
        Operand<TFloat32> mask = tf.zeros(tf.concat(List.of(ints(1), TfContext.rowsOf(tf, memory.outputs.get(example))),
                first), TFloat32.class);
        return TfContext.decoderRows(tf, model, c.heads(), this.positions, ints(0), ints(position), cross, ints(0),
                mask);
    }

    @Override
    public void propagateKv(Workspace ws, Caches caches, int layer, int[] rows, int[] positions, States hidden) {
        fill(caches, new KvFill.Propagate(layer), rows, positions, hidden);
    }

    @Override
    public void copyKv(Caches caches, int layer, int fromLayer, int[] rows, int[] positions) {
        fill(caches, new KvFill.Copy(layer, fromLayer), rows, positions, null);
    }

    private void fill(Caches caches, KvFill fill, int[] rows, int[] positions, States hidden) {
        eager("decoder cache fill", () -> {
            List<Operand<?>> w = new ArrayList<>(model.decoder());
            for (int i = 0; i < rows.length; i++) {
                caches.rows.set(rows[i], decoderStage.fill(tf, fill, hidden == null ? null : hidden.segments().get(i),
                        tf.constant(new int[][] {{0, positions[i]}}), caches.rows.get(rows[i]), w));
            }
            return null;
        });
    }

    @Override
    public Caches reorder(Caches caches, int[] parents) {
        List<List<Operand<?>>> next = new ArrayList<>();
        for (int p : parents) {
            next.add(caches.rows.get(p));
        }
        return new Caches(next);
    }

    @Override
    public States decoderPass(Workspace ws, int layer, States x, Memory memory, int[] examples) {
        return eager("decoder layer " + layer, () -> {
            List<Operand<?>> w = new ArrayList<>(model.decoder());
            List<Operand<TFloat32>> out = new ArrayList<>();
            for (int i = 0; i < examples.length; i++) {
                Operand<TFloat32> seg = x.segments().get(i);
                int n = (int) seg.shape().get(0);
                int[] pos = new int[n];
                for (int t = 0; t < n; t++) {
                    pos[t] = t;
                }
                // Each layer of the scoring pass makes its own cross keys, as the graphs do.
                List<Operand<?>> ctx = TfContext.scorer(tf, model, c.heads(), ints(pos), ints(new int[n]),
                        memory.outputs.get(examples[i]));
                out.add(scorerStage.layer(tf, layer, seg, ctx, List.of(), w).y());
            }
            return new States(out);
        });
    }

    // ------------------------------------------------------------------ both stages

    @Override
    public States gather(Workspace ws, List<States> sources, int[] source, int[] segment) {
        List<Operand<TFloat32>> out = new ArrayList<>();
        for (int k = 0; k < source.length; k++) {
            out.add(sources.get(source[k]).segments().get(segment[k]));
        }
        return new States(out);
    }

    @Override
    public double[] measure(GateMeasure measure, States out, States in, int[] groupEnds) {
        return eager("gate", () -> {
            double[] v = new double[groupEnds.length];
            int start = 0;
            for (int g = 0; g < groupEnds.length; g++) {
                Operand<TFloat32> y = cat(out.segments().subList(start, groupEnds[g]));
                v[g] = switch (measure) {
                    case COSINE -> TfLayers.cosine(tf, y, cat(in.segments().subList(start, groupEnds[g])))
                            .asTensor().getDouble();
                    case TOP_PROBABILITY -> {
                        Operand<TFloat32> p = tf.nn.softmax(ops.lmHead(tf, model, y));
                        Operand<TFloat64> top = tf.dtypes.cast(tf.max(p, tf.constant(1)), TFloat64.class);
                        yield tf.min(top, tf.constant(0)).asTensor().getDouble();
                    }
                };
                start = groupEnds[g];
            }
            return v;
        });
    }

    private Operand<TFloat32> cat(List<Operand<TFloat32>> parts) {
        return parts.size() == 1 ? parts.get(0) : tf.concat(parts, tf.constant(0));
    }

    @Override
    public float[][][] logits(Workspace ws, States x, int[] first) {
        return eager("LM head", () -> {
            int vocab = c.vocabSize();
            float[][][] out = new float[x.segments().size()][][];
            for (int s = 0; s < out.length; s++) {
                Operand<TFloat32> seg = x.segments().get(s);
                int n = (int) seg.shape().get(0);
                Operand<TFloat32> rows = tf.slice(seg, tf.constant(new int[] {first[s], 0}),
                        tf.constant(new int[] {n - first[s], -1}));
                float[] lg = host(ops.lmHead(tf, model, rows));
                out[s] = new float[n - first[s]][];
                for (int t = 0; t < out[s].length; t++) {
                    out[s][t] = Arrays.copyOfRange(lg, t * vocab, (t + 1) * vocab);
                }
            }
            return out;
        });
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            session.close();
        }
    }
}
