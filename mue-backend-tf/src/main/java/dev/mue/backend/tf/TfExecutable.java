package dev.mue.backend.tf;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanNode;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.ScoringOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.OperationBuilder;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * A plan compiled to TensorFlow (design §5): one graph and one session per executable.
 *
 * <p>Three TF functions hold the model: {@code encode_example} (ResNet, embeddings, every encoder
 * stream with its chain of {@code If} exits ({@link TfChain}), the final LayerNorm),
 * {@code decode_step} (one decoding step of a batch of rows: stacked KV caches in, the rows' exits
 * decided row by row inside one batched chain ({@link TfRowChain}), KV caches and logits out) and
 * {@code score_example} (the scoring pass of one example, one decision). The session graph holds
 * the weights and folded biases as variables, passed to the functions as arguments, and one small
 * entry per stage and batch shape, added on first use: {@code encode_b<N>} (N calls of
 * {@code encode_example}), {@code step_r<R>} (one call of {@code decode_step} for R rows of one
 * example, a beam) or {@code step_m<R>} (of {@code decode_step_examples}, for rows of several
 * examples), {@code score_e<E>} and {@code cross_e<E>} (a decoding run's cross-attention keys,
 * stacked). An
 * encoder pass, a decoding step and a scoring pass are each one {@code Session.run}; each encoder
 * example runs its own chain, and each decoding row its own exits within the batched chain, so a
 * batch makes the decisions single calls make, and a layer no row reaches runs no op.
 * {@link #describeCompiled()} lists the compiled {@code If} nodes.
 */
final class TfExecutable implements Executable {
    private static final Logger LOG = LoggerFactory.getLogger(TfExecutable.class);
    private final Plan plan;
    private final ModelConfig c;
    private final ExitPolicy policy;
    final TfLayers ops;
    private final TfWeights weights;
    private final Graph graph;
    private final Ops tf;
    private final TfModel model;
    private final Session session;
    /** Decoder cache slots: one per decoder position the plan folds biases for. */
    final int positions;
    /** Per encoder stream, its stage; streams whose gates have the same shape share one compiled chain. */
    private final Map<Stream, TfStage.Encoder> encoderStages = new java.util.EnumMap<>(Stream.class);
    /** The decoding step's stage: [0] for rows of several examples, [1] for rows of one example. */
    private final TfStage.Decoder[] decoderStages;
    private final TfStage.Scorer scorerStage;
    private final List<AutoCloseable> functions = new ArrayList<>();
    private Program encodeExample;
    /** The decoding step's function: [0] for rows of several examples, [1] for rows of one example. */
    private final Program[] decodeStep = new Program[2];
    private Program scoreExample;
    private Program crossExample;
    private final Map<Integer, EncoderEntry> encoders = new HashMap<>();
    private final Map<Integer, StepEntry> steps = new HashMap<>();
    private final Map<Integer, ScoreEntry> scorers = new HashMap<>();
    private final Map<Integer, CrossEntry> crosses = new HashMap<>();
    /** Graph changes (new entries) exclude runs; runs share. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile boolean closed;
    private volatile Consumer<RunMetadata> tracer;

    TfExecutable(Plan plan, TfBackend backend) {
        this.plan = plan;
        this.c = plan.config();
        this.policy = plan.policy();
        this.ops = new TfLayers(c);
        this.weights = new TfWeights(plan);
        this.positions = (int) weights.decoderSelfBias.get(0).shape()[2];
        if (positions < plan.shapes().maxDecoderTokens()) {
            throw new IllegalStateException("decoder self-attention bias folded for " + positions
                    + " positions, the plan allows " + plan.shapes().maxDecoderTokens());
        }
        // Streams whose gates have one shape share one compiled chain, named "enc"; otherwise each
        // stream's chain gets its own name.
        java.util.Set<String> shapes = new java.util.HashSet<>();
        for (Stream s : plan.encoderStreams()) {
            shapes.add(new TfStage.Encoder(weights, plan, s, ops, "enc").shape());
        }
        for (Stream s : plan.encoderStreams()) {
            encoderStages.put(s, new TfStage.Encoder(weights, plan, s, ops, shapes.size() == 1 ? "enc" : "enc_" + s.label()));
        }
        this.decoderStages = new TfStage.Decoder[] {new TfStage.Decoder(weights, plan, ops, positions, false),
            new TfStage.Decoder(weights, plan, ops, positions, true)};
        this.scorerStage = new TfStage.Scorer(weights, plan, ops);
        this.graph = new Graph();
        try {
            this.tf = Ops.create(graph);
            // Weights as (reference) variables, initialised once: one copy shared by every entry's
            // executor (a constant would be materialised per executor), and a reference input marks
            // each function call as "related to reference variables" for TensorFlow's XLA
            // clustering passes, which otherwise instantiate every branch function of every call
            // at each new executor (seconds for a deep model).
            this.model = TfModel.variables(tf, weights);
            model.makeAll();
            this.session = new Session(graph, backend.config());
            session.initialize();
        } catch (RuntimeException e) {
            graph.close();
            throw TfNatives.translate("preparing plan " + c.name(), e);
        }
    }

    @Override
    public Plan plan() {
        return plan;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("executable is closed");
        }
    }

    // ------------------------------------------------------------------ top-level functions

    /**
     * A top-level TF function: its own inputs, then the weights it uses (in {@link TfModel#used()}
     * order, passed by the caller as the session graph's variables).
     */
    private record Program(ConcreteFunction fn, List<TfWeights.Host> weights, List<Class<? extends TType>> outTypes) {
        /**
         * Calls the function once in {@code tf}'s graph, as a node whose op is the function itself
         * (run by the device's function runtime, instantiated once per executor).
         */
        List<Operand<?>> call(Ops tf, String name, List<Operand<?>> inputs, TfModel weights) {
            OperationBuilder b = tf.withName(name).scope().opBuilder(fn.getDefinedName(), "call");
            for (Operand<?> a : inputs) {
                b.addInput(a.asOutput());
            }
            for (TfWeights.Host h : this.weights) {
                b.addInput(weights.of(h).asOutput());
            }
            Operation op = b.build();
            List<Operand<?>> out = new ArrayList<>();
            for (int i = 0; i < outTypes.size(); i++) {
                out.add(op.output(i));
            }
            return out;
        }
    }

    /** Builds a function's body from its inputs and a model whose weights are its further arguments. */
    private interface Body {
        List<Operand<?>> build(Ops tf, List<Operand<?>> inputs, TfModel weights);
    }

    private Program program(String key, List<TfStage.Arg> inputs, Body body) {
        List<List<TfWeights.Host>> used = new ArrayList<>();
        List<List<Class<? extends TType>>> types = new ArrayList<>();
        long t0 = System.nanoTime();
        ConcreteFunction fn = ConcreteFunction.create(f -> {
            Signature.Builder sig = Signature.builder().key(key);
            List<Operand<?>> in = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                String name = String.format(Locale.ROOT, "a%04d", i);
                TfStage.Arg a = inputs.get(i);
                Operand<?> p = f.withName(name).placeholder(a.type(), Placeholder.shape(a.shape()));
                sig.input(name, p);
                in.add(p);
            }
            int[] n = {0};
            TfModel fm = TfModel.of(weights, h -> {
                String name = String.format(Locale.ROOT, "b%04d", n[0]++);
                Operand<TFloat32> p = f.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.of(h.shape())));
                sig.input(name, p);
                return p;
            });
            List<Operand<?>> outs = body.build(f, in, fm);
            List<Class<? extends TType>> t = new ArrayList<>();
            for (int i = 0; i < outs.size(); i++) {
                String name = String.format(Locale.ROOT, "o%04d", i);
                sig.output(name, f.withName(name).identity(outs.get(i)));
                t.add(outs.get(i).type());
            }
            used.add(fm.used());
            types.add(t);
            return sig.build();
        });
        functions.add(fn);
        graph.attachFunction(fn);
        LOG.debug("compiled {}: {} ms", key, (System.nanoTime() - t0) / 1_000_000);
        return new Program(fn, used.get(0), List.copyOf(types.get(0)));
    }

    private TfChain chain(TfStage stage) {
        TfChain ch = new TfChain(stage);
        functions.add(ch);
        return ch;
    }

    private static TfStage.Arg arg(Class<? extends TType> type, long... shape) {
        return new TfStage.Arg(type, Shape.of(shape));
    }

    /**
     * The encoder pass of one example: output, per stream the exit layers {@code [S]} and
     * similarities {@code [S, L-1]}. The decoder's cross-attention keys and values are not made here:
     * a scoring pass makes each layer's inside that layer, a decoding run makes them when it starts.
     */
    private Program encodeExample() {
        if (encodeExample == null) {
            // One chain per gate shape: the image and text stacks of a decomposed encoder have the
            // same gates (nodes of the same layers and minimum), so they share one set of functions.
            Map<String, TfChain> byShape = new HashMap<>();
            Map<Stream, TfChain> chains = new java.util.EnumMap<>(Stream.class);
            for (var e : encoderStages.entrySet()) {
                chains.put(e.getKey(), byShape.computeIfAbsent(e.getValue().shape(), k -> chain(e.getValue())));
            }
            int size = c.imageSize();
            int imageTokens = c.imageTokens();
            boolean decomposed = policy.encoderMode() == EncoderMode.DECOMPOSED;
            encodeExample = program("encode_example", List.of(arg(TFloat32.class, 3, size, size),
                    arg(TInt32.class, -1), arg(TFloat64.class), arg(TFloat64.class)), (f, in, m) -> {
                        @SuppressWarnings("unchecked")
                        Operand<TFloat32> image = (Operand<TFloat32>) in.get(0);
                        @SuppressWarnings("unchecked")
                        Operand<TInt32> ids = (Operand<TInt32>) in.get(1);
                        @SuppressWarnings("unchecked")
                        Operand<TFloat64> thA = (Operand<TFloat64>) in.get(2);
                        @SuppressWarnings("unchecked")
                        Operand<TFloat64> thB = (Operand<TFloat64>) in.get(3);
                        Operand<TFloat32> img = ops.embedImage(f.withSubScope("image_embed"), m, image, size);
                        Operand<TFloat32> txt = ops.embedText(f.withSubScope("text_embed"), m, ids);
                        Operand<TInt32> textLen = f.shape(ids);
                        Operand<TInt32> imageLen = f.constant(new int[] {imageTokens});
                        List<TfChain.Out> outs = new ArrayList<>();
                        if (decomposed) {
                            outs.add(chains.get(Stream.IMAGE).build(f.withSubScope("image"), img, thA,
                                    TfContext.biasSlices(f, c.heads(), m.imageBias(), imageLen, imageLen), List.of(),
                                    m.encoder()));
                            outs.add(chains.get(Stream.TEXT).build(f.withSubScope("text"), txt, thB,
                                    TfContext.biasSlices(f, c.heads(), m.textBias(), textLen, textLen), List.of(),
                                    m.encoder()));
                        } else {
                            Operand<TFloat32> x = f.concat(List.of(img, txt), f.constant(0));
                            Operand<TInt32> len = f.math.add(imageLen, textLen);
                            outs.add(chains.get(Stream.JOINT).build(f.withSubScope("joint"), x, thA,
                                    TfContext.biasSlices(f, c.heads(), m.jointBias(), len, len), List.of(),
                                    m.encoder()));
                        }
                        Operand<TFloat32> out = ops.encoderOutput(f.withSubScope("output"), m,
                                outs.stream().map(TfChain.Out::x).toList());
                        return List.of(out, f.stack(outs.stream().map(TfChain.Out::exitLayer).toList()),
                                f.stack(outs.stream().map(TfChain.Out::sims).toList()));
                    });
        }
        return encodeExample;
    }

    /**
     * One example's cross-attention keys (layers 1..L) then values from its encoder output: run
     * once per example when decoding starts, so that every decoding step stays one run (a step
     * cannot know in advance which layers its tokens will reach; a scoring pass can, and makes its
     * own inside each layer).
     */
    private Program crossExample() {
        if (crossExample == null) {
            crossExample = program("cross_example", List.of(arg(TFloat32.class, -1, c.dModel())), (f, in, m) ->
                    new ArrayList<>(TfContext.crossKv(f.withSubScope("cross"), m, TfStage.f32(in.get(0)))));
        }
        return crossExample;
    }

    /**
     * The entry that runs {@link #crossExample()} for {@code n} examples in one run and stacks
     * their keys and values for a decoding step: per layer {@code [n, M, d]}, M the longest
     * example's encoder length, shorter ones padded with zeros, and the key mask {@code [n, M]}
     * (0, -inf over padding). A single example is only given its leading axis: no padding.
     */
    private final class CrossEntry {
        final List<Operand<TFloat32>> outputs = new ArrayList<>();
        /** Keys (layers 1..L), values (layers 1..L), then the key mask. */
        final List<Operand<?>> stacked = new ArrayList<>();

        CrossEntry(int n) {
            String e = "cross_e" + n;
            int layers = c.decoderLayers();
            List<List<Operand<?>>> kv = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Operand<TFloat32> out = input(e + "_output_" + i, TFloat32.class, -1, c.dModel());
                outputs.add(out);
                kv.add(crossExample().call(tf, e + "_example_" + i, List.of(out), model));
            }
            Ops s = tf.withSubScope(e + "_stack");
            Operand<TInt32> zero = s.constant(0);
            if (n == 1) {
                for (Operand<?> t : kv.get(0)) {
                    stacked.add(s.expandDims(TfStage.f32(t), zero));
                }
                stacked.add(s.expandDims(s.zeros(TfContext.rowsOf(s, outputs.get(0)), TFloat32.class), zero));
                return;
            }
            List<Operand<TInt32>> lengths = new ArrayList<>();
            for (Operand<TFloat32> out : outputs) {
                lengths.add(s.reshape(TfContext.rowsOf(s, out), s.constant(new int[0])));
            }
            Operand<TInt32> longest = s.max(s.stack(lengths), zero);
            for (int k = 0; k < 2 * layers; k++) {
                List<Operand<TFloat32>> parts = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    Operand<TInt32> pad = s.stack(List.of(s.stack(List.of(zero, s.math.sub(longest, lengths.get(i)))),
                            s.constant(new int[] {0, 0})));
                    parts.add(s.pad(TfStage.f32(kv.get(i).get(k)), pad, s.constant(0f)));
                }
                stacked.add(s.stack(parts));
            }
            List<Operand<TFloat32>> masks = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Operand<TFloat32> present = s.zeros(s.reshape(lengths.get(i), s.constant(new int[] {1})), TFloat32.class);
                Operand<TInt32> pad = s.reshape(s.stack(List.of(zero, s.math.sub(longest, lengths.get(i)))),
                        s.constant(new int[] {1, 2}));
                masks.add(s.pad(present, pad, s.constant(Float.NEGATIVE_INFINITY)));
            }
            stacked.add(s.stack(masks));
        }
    }

    /**
     * The stacked cross keys (layers 1..L), values (layers 1..L) and key mask of the examples whose
     * encoder outputs are {@code outputs}, in one run (see {@link CrossEntry}; the caller closes
     * the result).
     */
    Result crossOf(List<Tensor> outputs) {
        CrossEntry entry = entry(crosses, outputs.size(), CrossEntry::new);
        return run("cross-attention keys of " + outputs.size() + " examples", () -> {
            Session.Runner run = session.runner();
            for (int i = 0; i < outputs.size(); i++) {
                run.feed(entry.outputs.get(i), outputs.get(i));
            }
            entry.stacked.forEach(run::fetch);
            return run;
        });
    }

    /**
     * One decoding step of a batch of rows: logits {@code [R, V]}, exit layers {@code [R]},
     * similarities {@code [R, L-1]}, then the new caches (keys, values, masks per layer:
     * {@code [R, P, d]}, {@code [R, P]}). Inputs: tokens, positions, the threshold, {@code order}
     * (each row's row in the caches given: a beam reorder becomes a gather here), each row's slot
     * in the stacked cross keys, the caches, the cross keys and values, and the cross key mask.
     * {@code oneExample}: every row decodes the same example (see {@link TfStage.Decoder}).
     */
    private Program decodeStep(boolean oneExample) {
        int variant = oneExample ? 1 : 0;
        if (decodeStep[variant] == null) {
            TfStage.Decoder decoderStage = decoderStages[variant];
            TfRowChain chain = new TfRowChain(decoderStage);
            functions.add(chain);
            int layers = c.decoderLayers();
            List<TfStage.Arg> inputs = new ArrayList<>(List.of(arg(TInt32.class, -1), arg(TInt32.class, -1),
                    arg(TFloat64.class), arg(TInt32.class, -1), arg(TInt32.class, -1)));
            inputs.addAll(decoderStage.cacheArgs());
            inputs.addAll(TfStage.repeat(2 * layers, arg(TFloat32.class, -1, -1, c.dModel())));
            inputs.add(arg(TFloat32.class, -1, -1));
            decodeStep[variant] = program(oneExample ? "decode_step" : "decode_step_examples", inputs, (f, in, m) -> {
                Operand<TInt32> tok = as(in.get(0));
                Operand<TInt32> pos = as(in.get(1));
                Operand<TFloat64> th = as(in.get(2));
                Operand<TInt32> order = as(in.get(3));
                Operand<TInt32> slot = as(in.get(4));
                Ops r = f.withSubScope("reorder");
                List<Operand<?>> caches = new ArrayList<>();
                for (Operand<?> cache : in.subList(5, 5 + 3 * layers)) {
                    caches.add(r.gather(TfStage.f32(cache), order, r.constant(0)));
                }
                List<Operand<?>> cross = in.subList(5 + 3 * layers, 5 + 5 * layers);
                Operand<TFloat32> crossMask = TfStage.f32(in.get(5 + 5 * layers));
                Operand<TFloat32> x = ops.embedDecoder(f.withSubScope("embed"), m, tok);
                Ops cx = f.withSubScope("context");
                Operand<TInt32> rows = cx.range(cx.constant(0), cx.size(tok, TInt32.class), cx.constant(1));
                List<Operand<?>> ctx = TfContext.decoderRows(cx, m, c.heads(), positions, rows, pos, cross, slot,
                        crossMask);
                TfRowChain.Out out = chain.build(f, x, th, ctx, caches, m.decoder());
                List<Operand<?>> result = new ArrayList<>(List.of(ops.lmHead(f.withSubScope("lm_head"), m, out.x()),
                        out.exitLayer(), out.sims()));
                result.addAll(out.cache());
                return result;
            });
        }
        return decodeStep[variant];
    }

    /** The scoring pass of one example's packed rows: logits of the scored positions, exit layer, similarities. */
    private Program scoreExample() {
        if (scoreExample == null) {
            TfChain chain = chain(scorerStage);
            int layers = c.decoderLayers();
            List<TfStage.Arg> inputs = new ArrayList<>(List.of(arg(TInt32.class, -1), arg(TInt32.class, -1),
                    arg(TInt32.class, -1), arg(TInt32.class, -1), arg(TFloat64.class), arg(TFloat32.class, -1,
                            c.dModel())));
            scoreExample = program("score_example", inputs, (f, in, m) -> {
                @SuppressWarnings("unchecked")
                Operand<TInt32> ids = (Operand<TInt32>) in.get(0);
                @SuppressWarnings("unchecked")
                Operand<TInt32> pos = (Operand<TInt32>) in.get(1);
                @SuppressWarnings("unchecked")
                Operand<TInt32> seg = (Operand<TInt32>) in.get(2);
                @SuppressWarnings("unchecked")
                Operand<TInt32> scored = (Operand<TInt32>) in.get(3);
                @SuppressWarnings("unchecked")
                Operand<TFloat64> th = (Operand<TFloat64>) in.get(4);
                Operand<TFloat32> encoded = TfStage.f32(in.get(5));
                Operand<TFloat32> x = ops.embedDecoder(f.withSubScope("embed"), m, ids);
                List<Operand<?>> ctx = TfContext.scorer(f.withSubScope("context"), m, c.heads(), pos, seg, encoded);
                TfChain.Out out = chain.build(f, x, th, ctx, List.of(), m.decoder());
                Operand<TFloat32> logits = ops.lmHead(f.withSubScope("lm_head"), m,
                        f.gather(out.x(), scored, f.constant(0)));
                return List.of(logits, out.exitLayer(), out.sims());
            });
        }
        return scoreExample;
    }

    // ------------------------------------------------------------------ entries (built under the write lock)

    private <T> T entry(Map<Integer, T> cache, int key, IntFunction<T> build) {
        lock.readLock().lock();
        try {
            T e = cache.get(key);
            if (e != null) {
                return e;
            }
        } finally {
            lock.readLock().unlock();
        }
        lock.writeLock().lock();
        try {
            checkOpen();
            T e = cache.get(key);
            if (e == null) {
                try {
                    long t0 = System.nanoTime();
                    e = build.apply(key);
                    LOG.debug("built {} for {}: {} ms", e.getClass().getSimpleName(), key, (System.nanoTime() - t0) / 1_000_000);
                } catch (RuntimeException ex) {
                    throw TfNatives.translate("building the graph", ex, false);
                }
                cache.put(key, e);
            }
            return e;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Runs under the read lock, mapping TF's errors. */
    Result run(String what, Supplier<Session.Runner> runner) {
        lock.readLock().lock();
        try {
            checkOpen();
            long t0 = System.nanoTime();
            Consumer<RunMetadata> sink = tracer;
            Result r;
            if (sink == null) {
                r = runner.get().run();
            } else {
                r = runner.get().setOptions(RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE)
                        .build()).runAndFetchMetadata();
                r.getMetadata().ifPresent(sink);
            }
            if (LOG.isDebugEnabled()) {
                LOG.debug("{}: {} us", what, (System.nanoTime() - t0) / 1000);
            }
            return r;
        } catch (RuntimeException e) {
            throw TfNatives.translate(what, e, true);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Traces every later run (TensorFlow's FULL_TRACE step statistics, which list each node that
     * executed, inside functions too) into {@code sink}; null stops tracing. For tests.
     */
    void trace(Consumer<RunMetadata> sink) {
        tracer = sink;
    }

    /** The session, for the stepper's runs (through {@link #run}). */
    Session session() {
        return session;
    }

    private <T extends TType> Operand<T> input(String name, Class<T> type, long... shape) {
        return tf.withName(name).placeholder(type, Placeholder.shape(Shape.of(shape)));
    }

    @SuppressWarnings("unchecked")
    private static <T extends TType> Operand<T> as(Operand<?> o) {
        return (Operand<T>) o;
    }

    private Operand<?> stackOrOne(List<Operand<?>> parts, String name) {
        List<Operand<TType>> typed = parts.stream().map(TfExecutable::<TType>as).toList();
        return tf.withName(name).stack(typed);
    }

    // ------------------------------------------------------------------ encoder

    /** The encoder pass for a batch of {@code n}. */
    private final class EncoderEntry {
        final List<Operand<TFloat32>> images = new ArrayList<>();
        final List<Operand<TInt32>> tokens = new ArrayList<>();
        final Operand<TFloat64> thresholdA;
        final Operand<TFloat64> thresholdB;
        /** Per example: the output, then its cross keys (layers 1..L) and values (layers 1..L). */
        final List<Operand<?>> outputs = new ArrayList<>();
        final Operand<?> exits;
        final Operand<?> sims;

        EncoderEntry(int n) {
            Program p = encodeExample();
            String e = "encode_b" + n;
            thresholdA = input(e + "_threshold_a", TFloat64.class);
            thresholdB = input(e + "_threshold_b", TFloat64.class);
            List<Operand<?>> exitList = new ArrayList<>();
            List<Operand<?>> simList = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Operand<TFloat32> image = input(e + "_image_" + i, TFloat32.class, 3, c.imageSize(), c.imageSize());
                Operand<TInt32> ids = input(e + "_tokens_" + i, TInt32.class, -1);
                images.add(image);
                tokens.add(ids);
                List<Operand<?>> out = p.call(tf, e + "_example_" + i, List.of(image, ids, thresholdA, thresholdB), model);
                outputs.add(out.get(0));
                outputs.addAll(out.subList(3, out.size()));
                exitList.add(out.get(1));
                simList.add(out.get(2));
            }
            exits = stackOrOne(exitList, e + "_exits");
            sims = stackOrOne(simList, e + "_sims");
        }
    }

    /** The threshold of {@code stream}'s gates, from the plan's gate nodes (1 when the stream has none). */
    private double threshold(Stream stream) {
        List<PlanNode.ExitGate> gates = plan.gates(stream);
        return gates.isEmpty() ? 1.0 : plan.threshold(gates.get(0));
    }

    /** The decoder gates' threshold at step {@code step} of at most {@code horizon} tokens. */
    double decoderThreshold(int step, int horizon) {
        List<PlanNode.ExitGate> gates = plan.gates(Stream.DECODER);
        return gates.isEmpty() ? 1.0 : plan.threshold(gates.get(0), step, horizon);
    }

    @Override
    public EncodedBatch encode(List<EncoderInput> batch) {
        checkOpen();
        int n = batch.size();
        EncoderEntry entry = entry(encoders, n, EncoderEntry::new);
        boolean decomposed = policy.encoderMode() == EncoderMode.DECOMPOSED;
        List<Tensor> feeds = new ArrayList<>();
        Result r;
        try {
            for (EncoderInput in : batch) {
                feeds.add(TfTensors.floats(in.image(), 3, c.imageSize(), c.imageSize()));
                feeds.add(TfTensors.ints(in.tokens()));
            }
            feeds.add(TFloat64.scalarOf(decomposed ? threshold(Stream.IMAGE) : threshold(Stream.JOINT)));
            feeds.add(TFloat64.scalarOf(decomposed ? threshold(Stream.TEXT) : 1.0));
            r = run("encoding a batch of " + n, () -> {
                Session.Runner run = session.runner();
                for (int i = 0; i < n; i++) {
                    run.feed(entry.images.get(i), feeds.get(2 * i)).feed(entry.tokens.get(i), feeds.get(2 * i + 1));
                }
                run.feed(entry.thresholdA, feeds.get(2 * n)).feed(entry.thresholdB, feeds.get(2 * n + 1));
                entry.outputs.forEach(run::fetch);
                return run.fetch(entry.exits).fetch(entry.sims);
            });
        } finally {
            feeds.forEach(Tensor::close);
        }
        try {
            int perExample = 1;
            int[] exitLayers = TfTensors.ints(r.get(n * perExample));
            double[] sims = TfTensors.doubles(r.get(n * perExample + 1));
            int layers = c.encoderLayers();
            int g = Math.max(0, layers - 1);
            List<Stream> streams = plan.encoderStreams();
            List<List<EncoderExit>> exits = new ArrayList<>();
            int[] tokens = new int[n];
            for (int i = 0; i < n; i++) {
                List<EncoderExit> ex = new ArrayList<>();
                int textLen = batch.get(i).tokens().length;
                for (int s = 0; s < streams.size(); s++) {
                    Stream st = streams.get(s);
                    int k = i * streams.size() + s;
                    double th = threshold(st);
                    int streamTokens = switch (st) {
                        case IMAGE -> c.imageTokens();
                        case TEXT -> textLen;
                        default -> c.imageTokens() + textLen;
                    };
                    ex.add(new EncoderExit(st, exitLayers[k], streamTokens, TfPacking.gates(st, exitLayers[k],
                            Arrays.copyOfRange(sims, k * g, (k + 1) * g), layers, th)));
                }
                exits.add(ex);
                tokens[i] = c.imageTokens() + textLen;
            }
            return new TfEncodedBatch(this, r, perExample, exits, tokens);
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    // ------------------------------------------------------------------ decoding step

    /**
     * One decoding step of {@code rows} rows: one call of {@link #decodeStep}; {@code step_r<R>}
     * when the rows decode one example, {@code step_m<R>} when they decode several.
     */
    final class StepEntry {
        final Operand<TInt32> tokens;
        final Operand<TInt32> positions;
        final Operand<TFloat64> threshold;
        final Operand<TInt32> order;
        final Operand<TInt32> slot;
        /** The caches (keys 1..L, values 1..L, masks 1..L), then cross keys 1..L, values 1..L and the cross mask. */
        final List<Operand<?>> inputs = new ArrayList<>();
        final Operand<?> logits;
        final Operand<?> exits;
        final Operand<?> sims;
        /** The new caches in the order of the cache inputs. */
        final List<Operand<?>> caches;

        StepEntry(int key) {
            int rows = key / 2;
            boolean oneExample = key % 2 == 1;
            Program p = decodeStep(oneExample);
            String e = (oneExample ? "step_r" : "step_m") + rows;
            int layers = c.decoderLayers();
            tokens = input(e + "_tokens", TInt32.class, rows);
            positions = input(e + "_positions", TInt32.class, rows);
            threshold = input(e + "_threshold", TFloat64.class);
            order = input(e + "_order", TInt32.class, rows);
            slot = input(e + "_slot", TInt32.class, rows);
            List<TfStage.Arg> cacheArgs = decoderStages[0].cacheArgs();
            for (int k = 0; k < cacheArgs.size(); k++) {
                TfStage.Arg a = cacheArgs.get(k);
                inputs.add(input(e + "_cache_" + k, a.type(), a.shape().asArray()));
            }
            for (int k = 0; k < 2 * layers; k++) {
                inputs.add(input(e + "_cross_" + k, TFloat32.class, -1, -1, c.dModel()));
            }
            inputs.add(input(e + "_cross_mask", TFloat32.class, -1, -1));
            List<Operand<?>> args = new ArrayList<>(List.of(tokens, positions, threshold, order, slot));
            args.addAll(inputs);
            List<Operand<?>> out = p.call(tf, e + "_rows", args, model);
            logits = out.get(0);
            exits = out.get(1);
            sims = out.get(2);
            caches = List.copyOf(out.subList(3, out.size()));
        }
    }

    /** The step entry of {@code rows} rows decoding one example or several. */
    StepEntry stepEntry(int rows, boolean oneExample) {
        return entry(steps, 2 * rows + (oneExample ? 1 : 0), StepEntry::new);
    }

    @Override
    public DecoderStepper decoder(EncodedBatch encoded, int[] exampleOfRow, int horizon) {
        checkOpen();
        return new TfDecoderStepper(this, own(encoded), exampleOfRow, horizon);
    }

    private TfEncodedBatch own(EncodedBatch encoded) {
        if (!(encoded instanceof TfEncodedBatch t) || t.owner() != this) {
            throw new IllegalArgumentException("encoded batch comes from another executable or backend: "
                    + encoded.getClass().getName());
        }
        return t;
    }

    // ------------------------------------------------------------------ scoring

    private final class ScoreEntry {
        final Operand<TFloat64> threshold;
        /** Per example: tokens, positions, segments, scored indices, then its encoder output. */
        final List<List<Operand<?>>> inputs = new ArrayList<>();
        final List<Operand<?>> logits = new ArrayList<>();
        final Operand<?> exits;
        final Operand<?> sims;

        ScoreEntry(int examples) {
            Program p = scoreExample();
            String e = "score_e" + examples;
            int layers = c.decoderLayers();
            threshold = input(e + "_threshold", TFloat64.class);
            List<Operand<?>> exitList = new ArrayList<>();
            List<Operand<?>> simList = new ArrayList<>();
            for (int i = 0; i < examples; i++) {
                List<Operand<?>> in = new ArrayList<>();
                for (String what : new String[] {"tokens", "positions", "segments", "scored"}) {
                    in.add(input(e + "_" + what + "_" + i, TInt32.class, -1));
                }
                in.add(input(e + "_encoded_" + i, TFloat32.class, -1, c.dModel()));
                inputs.add(in);
                List<Operand<?>> args = new ArrayList<>(in.subList(0, 4));
                args.add(threshold);
                args.addAll(in.subList(4, in.size()));
                List<Operand<?>> out = p.call(tf, e + "_example_" + i, args, model);
                logits.add(out.get(0));
                exitList.add(out.get(1));
                simList.add(out.get(2));
            }
            exits = stackOrOne(exitList, e + "_exits");
            sims = stackOrOne(simList, e + "_sims");
        }
    }

    @Override
    public ScoringOutput score(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences, int[] firstScored) {
        checkOpen();
        TfEncodedBatch enc = own(encoded);
        double threshold = threshold(Stream.DECODER);
        List<TfPacking.Example> packed = TfPacking.score(exampleOfRow, sequences, firstScored);
        int m = packed.size();
        ScoreEntry entry = entry(scorers, m, ScoreEntry::new);
        int layers = c.decoderLayers();
        int vocab = c.vocabSize();
        float[][][] logits = new float[exampleOfRow.length][][];
        int[] exitLayer = new int[enc.size()];
        List<List<GateRecord>> gates = new ArrayList<>();
        for (int e = 0; e < enc.size(); e++) {
            gates.add(new ArrayList<>());
        }
        List<Tensor> outputs = new ArrayList<>();
        for (TfPacking.Example p : packed) {
            outputs.add(enc.outputTensor(p.example()));
        }
        List<Tensor> feeds = new ArrayList<>();
        try {
            for (TfPacking.Example p : packed) {
                feeds.add(TfTensors.ints(p.tokens()));
                feeds.add(TfTensors.ints(p.positions()));
                feeds.add(TfTensors.ints(p.segments()));
                feeds.add(TfTensors.ints(p.scored()));
            }
            feeds.add(TFloat64.scalarOf(threshold));
            try (Result r = run("scoring " + exampleOfRow.length + " rows", () -> {
                Session.Runner run = session.runner();
                for (int i = 0; i < m; i++) {
                    List<Operand<?>> in = entry.inputs.get(i);
                    for (int k = 0; k < 4; k++) {
                        run.feed(in.get(k), feeds.get(4 * i + k));
                    }
                    run.feed(in.get(4), outputs.get(i));
                }
                run.feed(entry.threshold, feeds.get(4 * m));
                entry.logits.forEach(run::fetch);
                return run.fetch(entry.exits).fetch(entry.sims);
            })) {
                int[] exits = TfTensors.ints(r.get(m));
                double[] sims = TfTensors.doubles(r.get(m + 1));
                int g = Math.max(0, layers - 1);
                for (int i = 0; i < m; i++) {
                    TfPacking.Example p = packed.get(i);
                    float[] lg = TfTensors.floats(r.get(i));
                    int t = 0;
                    for (int k = 0; k < p.rows().length; k++) {
                        int row = p.rows()[k];
                        logits[row] = new float[p.scoredPerRow()[k]][];
                        for (int j = 0; j < p.scoredPerRow()[k]; j++, t++) {
                            logits[row][j] = Arrays.copyOfRange(lg, t * vocab, (t + 1) * vocab);
                        }
                    }
                    exitLayer[p.example()] = exits[i];
                    gates.set(p.example(), TfPacking.gates(Stream.DECODER, exits[i],
                            Arrays.copyOfRange(sims, i * g, (i + 1) * g), layers, threshold));
                }
            }
        } finally {
            feeds.forEach(Tensor::close);
        }
        return new ScoringOutput(logits, exitLayer, gates);
    }

    // ------------------------------------------------------------------ description

    /**
     * The compiled graphs' conditional nodes, for {@code mue plan --backend tf}: the entries of an
     * encoder pass (batch of 1), a decoding step (1 row) and a scoring pass (1 example), and every
     * function with its {@code If} ops, their branches and the layer ops each holds.
     */
    @Override
    public Optional<String> describeCompiled() {
        checkOpen();
        entry(encoders, 1, EncoderEntry::new);
        stepEntry(1, true);
        entry(scorers, 1, ScoreEntry::new);
        return Optional.of(TfDescription.describe(plan, graphDef(), List.of("encode_b1_", "step_r1_", "score_e1_")));
    }

    /** The session graph with its function library, as a protocol buffer. */
    org.tensorflow.proto.GraphDef graphDef() {
        lock.readLock().lock();
        try {
            checkOpen();
            return graph.toGraphDef();
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            session.close();
            for (AutoCloseable f : functions) {
                try {
                    f.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing a TF function failed: " + e, e);
                }
            }
            graph.close();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
