package dev.mue.backend.tf;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.api.spi.StepOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.EagerSession;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The eager mode: the same {@link TfStage} ops as the compiled graphs, executed one by one in a
 * TF eager context, with every gate decided on the host (similarity read back, compared, the next
 * layer run or not). It is the tests' second oracle for the graphs: the same arithmetic, different
 * control flow. Slower than the graphs; select it with the backend property {@code mode=eager}.
 */
final class TfEagerExecutable implements Executable {
    private final Plan plan;
    private final ModelConfig c;
    private final ExitPolicy policy;
    private final TfLayers ops;
    private final EagerSession session;
    private final Ops tf;
    private final TfModel model;
    private final int positions;
    private final TfStage.Encoder encoderStage;
    private final TfStage.Decoder decoderStage;
    private final TfStage.Scorer scorerStage;
    private volatile boolean closed;

    TfEagerExecutable(Plan plan, TfBackend backend) {
        this.plan = plan;
        this.c = plan.config();
        this.policy = plan.policy();
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
        int min = policy.minExitLayer();
        this.encoderStage = new TfStage.Encoder(weights, ops, min);
        this.decoderStage = new TfStage.Decoder(weights, ops, min, positions, policy.kvPolicy());
        this.scorerStage = new TfStage.Scorer(weights, ops, min);
    }

    @Override
    public Plan plan() {
        return plan;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("executable is closed");
        }
    }

    /** Where a stage stopped: its output, exit layer, the similarities of the gates passed, the caches. */
    private record Outcome(Operand<TFloat32> x, int exitLayer, double[] sims, List<Operand<?>> cache) {
    }

    /** Runs a stage layer by layer, deciding each gate on the host. */
    private Outcome drive(TfStage st, Operand<TFloat32> x, double threshold, List<Operand<?>> ctx,
            List<Operand<?>> cache, List<Operand<?>> w) {
        double[] sims = new double[Math.max(0, st.layers - 1)];
        for (int i = 1;; i++) {
            TfStage.Step s = st.layer(tf, i, x, ctx, cache, w);
            if (i == st.layers) {
                return new Outcome(s.y(), i, sims, s.cache());
            }
            double sim = TfLayers.cosine(tf, s.y(), x).asTensor().getDouble();
            sims[i - 1] = sim;
            if (st.gateEnabled(i) && sim > threshold) {
                return new Outcome(s.y(), i, sims, st.exitFill(tf, i, s.y(), ctx, s.cache(), w));
            }
            x = s.y();
            cache = s.cache();
        }
    }

    private static float[] host(Operand<TFloat32> x) {
        return TfTensors.floats(x.asTensor());
    }

    private Operand<TInt32> ints(int... v) {
        return tf.constant(v);
    }

    // ------------------------------------------------------------------ encoder

    /** The eager encoder output. */
    private final class Batch implements EncodedBatch {
        final List<Operand<TFloat32>> outputs;
        final List<List<EncoderExit>> exits;
        final int[] tokens;
        final List<List<Operand<?>>> cross;
        boolean batchClosed;

        Batch(List<Operand<TFloat32>> outputs, List<List<EncoderExit>> exits, int[] tokens) {
            this.outputs = outputs;
            this.exits = exits;
            this.tokens = tokens;
            this.cross = new ArrayList<>();
            for (int i = 0; i < tokens.length; i++) {
                cross.add(null);
            }
        }

        TfEagerExecutable owner() {
            return TfEagerExecutable.this;
        }

        @Override
        public int size() {
            return tokens.length;
        }

        @Override
        public List<EncoderExit> exits(int i) {
            return exits.get(i);
        }

        @Override
        public int outputTokens(int i) {
            return tokens[i];
        }

        @Override
        public float[] output(int i) {
            check();
            return host(outputs.get(i));
        }

        List<Operand<?>> cross(int e) {
            check();
            if (cross.get(e) == null) {
                cross.set(e, new ArrayList<>(TfContext.crossKv(tf, model, outputs.get(e))));
            }
            return cross.get(e);
        }

        void check() {
            if (batchClosed) {
                throw new IllegalStateException("encoded batch is closed");
            }
            checkOpen();
        }

        @Override
        public void close() {
            batchClosed = true;
        }
    }

    @Override
    public synchronized EncodedBatch encode(List<EncoderInput> batch) {
        checkOpen();
        TfChecks.encode(plan, batch);
        int n = batch.size();
        int size = c.imageSize();
        int imageTokens = c.imageTokens();
        List<Operand<TFloat32>> outputs = new ArrayList<>();
        List<List<EncoderExit>> exits = new ArrayList<>();
        int[] tokens = new int[n];
        List<Operand<?>> w = new ArrayList<>(model.encoder());
        try {
            for (EncoderInput in : batch) {
                Operand<TFloat32> image = tf.constant(Shape.of(3, size, size), DataBuffers.of(in.image(), true, false));
                Operand<TInt32> ids = ints(in.tokens());
                Operand<TFloat32> img = ops.embedImage(tf, model, image, size);
                Operand<TFloat32> txt = ops.embedText(tf, model, ids);
                Operand<TInt32> textLen = tf.shape(ids);
                Operand<TInt32> imageLen = ints(imageTokens);
                int textTokens = in.tokens().length;
                List<EncoderExit> ex = new ArrayList<>();
                List<Operand<TFloat32>> parts = new ArrayList<>();
                if (policy.encoderMode() == EncoderMode.DECOMPOSED) {
                    Outcome oi = drive(encoderStage, img, policy.imageThreshold(),
                            TfContext.biasSlices(tf, c.heads(), model.imageBias(), imageLen, imageLen), List.of(), w);
                    Outcome ot = drive(encoderStage, txt, policy.textThreshold(),
                            TfContext.biasSlices(tf, c.heads(), model.textBias(), textLen, textLen), List.of(), w);
                    ex.add(exit(Stream.IMAGE, oi, imageTokens, policy.imageThreshold()));
                    ex.add(exit(Stream.TEXT, ot, textTokens, policy.textThreshold()));
                    parts.add(oi.x());
                    parts.add(ot.x());
                } else {
                    Operand<TFloat32> x = tf.concat(List.of(img, txt), tf.constant(0));
                    Operand<TInt32> len = tf.math.add(imageLen, textLen);
                    Outcome oj = drive(encoderStage, x, policy.jointThreshold(),
                            TfContext.biasSlices(tf, c.heads(), model.jointBias(), len, len), List.of(), w);
                    ex.add(exit(Stream.JOINT, oj, imageTokens + textTokens, policy.jointThreshold()));
                    parts.add(oj.x());
                }
                outputs.add(ops.encoderOutput(tf, model, parts));
                exits.add(ex);
                tokens[exits.size() - 1] = imageTokens + textTokens;
            }
        } catch (RuntimeException e) {
            throw TfNatives.translate("encoding (eager)", e);
        }
        return new Batch(outputs, exits, tokens);
    }

    private EncoderExit exit(Stream s, Outcome o, int tokens, double threshold) {
        return new EncoderExit(s, o.exitLayer(), tokens,
                TfPacking.gates(s, o.exitLayer(), o.sims(), c.encoderLayers(), threshold));
    }

    private Batch own(EncodedBatch encoded) {
        if (!(encoded instanceof Batch b) || b.owner() != this) {
            throw new IllegalArgumentException("encoded batch comes from another executable or backend: "
                    + encoded.getClass().getName());
        }
        return b;
    }

    // ------------------------------------------------------------------ decoder

    @Override
    public DecoderStepper decoder(EncodedBatch encoded, int[] exampleOfRow) {
        checkOpen();
        Batch enc = own(encoded);
        TfChecks.rows(enc.size(), exampleOfRow);
        return new Stepper(enc, exampleOfRow);
    }

    /** Eager incremental decoding: each row's caches are eager tensors, updated by the same ops as the graph's. */
    private final class Stepper implements DecoderStepper {
        private final Batch enc;
        private int[] example;
        private int[] pos;
        private List<List<Operand<?>>> caches;
        private boolean stepperClosed;

        Stepper(Batch enc, int[] exampleOfRow) {
            this.enc = enc;
            this.example = exampleOfRow.clone();
            this.pos = new int[exampleOfRow.length];
            int layers = c.decoderLayers();
            float[] minusInf = new float[positions];
            Arrays.fill(minusInf, Float.NEGATIVE_INFINITY);
            Operand<TFloat32> zeros = tf.zeros(ints(positions, c.dModel()), TFloat32.class);
            Operand<TFloat32> mask = tf.constant(minusInf);
            List<Operand<?>> empty = new ArrayList<>();
            for (int l = 0; l < 2 * layers; l++) {
                empty.add(zeros);
            }
            for (int l = 0; l < layers; l++) {
                empty.add(mask);
            }
            caches = new ArrayList<>();
            for (int r = 0; r < exampleOfRow.length; r++) {
                caches.add(empty);
            }
        }

        @Override
        public int rows() {
            return example.length;
        }

        @Override
        public StepOutput step(int[] tokens, double threshold) {
            check();
            int n = example.length;
            TfChecks.step(plan, n, tokens, pos);
            float[][] logits = new float[n][];
            int[] exitLayer = new int[n];
            List<List<GateRecord>> gates = new ArrayList<>();
            List<Operand<?>> w = new ArrayList<>(model.decoder());
            synchronized (TfEagerExecutable.this) {
                for (int r = 0; r < n; r++) {
                    Operand<TFloat32> x = ops.embedDecoder(tf, model, ints(tokens[r]));
                    List<Operand<?>> ctx = TfContext.decoderRow(tf, model, c.heads(), positions, tf.constant(pos[r]),
                            enc.cross(example[r]));
                    Outcome o = drive(decoderStage, x, threshold, ctx, caches.get(r), w);
                    logits[r] = host(ops.lmHead(tf, model, o.x()));
                    exitLayer[r] = o.exitLayer();
                    gates.add(TfPacking.gates(Stream.DECODER, o.exitLayer(), o.sims(), c.decoderLayers(), threshold));
                    caches.set(r, o.cache());
                    pos[r]++;
                }
            }
            return new StepOutput(logits, exitLayer, gates);
        }

        @Override
        public void reorder(int[] parents) {
            check();
            for (int p : parents) {
                if (p < 0 || p >= example.length) {
                    throw new InvalidInputException("reorder parent " + p + " outside 0.." + (example.length - 1));
                }
            }
            int[] ex = new int[parents.length];
            int[] ps = new int[parents.length];
            List<List<Operand<?>>> cs = new ArrayList<>();
            for (int r = 0; r < parents.length; r++) {
                ex[r] = example[parents[r]];
                ps[r] = pos[parents[r]];
                cs.add(caches.get(parents[r]));
            }
            example = ex;
            pos = ps;
            caches = cs;
        }

        private void check() {
            if (stepperClosed) {
                throw new IllegalStateException("decoder stepper is closed");
            }
            enc.check();
        }

        @Override
        public void close() {
            stepperClosed = true;
            caches = List.of();
            example = new int[0];
            pos = new int[0];
        }
    }

    // ------------------------------------------------------------------ scoring

    @Override
    public synchronized ScoringOutput score(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences,
            int[] firstScored, double threshold) {
        checkOpen();
        Batch enc = own(encoded);
        TfChecks.score(plan, enc.size(), exampleOfRow, sequences, firstScored);
        int vocab = c.vocabSize();
        float[][][] logits = new float[exampleOfRow.length][][];
        int[] exitLayer = new int[enc.size()];
        List<List<GateRecord>> gates = new ArrayList<>();
        for (int e = 0; e < enc.size(); e++) {
            gates.add(new ArrayList<>());
        }
        List<Operand<?>> w = new ArrayList<>(model.decoder());
        for (TfPacking.Example p : TfPacking.score(exampleOfRow, sequences, firstScored)) {
            Operand<TFloat32> x = ops.embedDecoder(tf, model, ints(p.tokens()));
            List<Operand<?>> ctx = TfContext.scorer(tf, model, c.heads(), ints(p.positions()), ints(p.segments()),
                    enc.cross(p.example()));
            Outcome o = drive(scorerStage, x, threshold, ctx, List.of(), w);
            float[] lg = host(ops.lmHead(tf, model, tf.gather(o.x(), ints(p.scored()), tf.constant(0))));
            int t = 0;
            for (int k = 0; k < p.rows().length; k++) {
                int row = p.rows()[k];
                logits[row] = new float[p.scoredPerRow()[k]][];
                for (int j = 0; j < p.scoredPerRow()[k]; j++, t++) {
                    logits[row][j] = Arrays.copyOfRange(lg, t * vocab, (t + 1) * vocab);
                }
            }
            exitLayer[p.example()] = o.exitLayer();
            gates.set(p.example(), TfPacking.gates(Stream.DECODER, o.exitLayer(), o.sims(), c.decoderLayers(),
                    threshold));
        }
        return new ScoringOutput(logits, exitLayer, gates);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            session.close();
        }
    }
}
