package dev.mue.runtime;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.layer.LayerOps;
import dev.mue.api.layer.Workspace;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanNode;
import dev.mue.api.plan.Stream;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.RequestChecks;
import dev.mue.api.spi.ScoringOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A plan executed by the runtime over a backend's layer operations. Each call walks the nodes of
 * one plan stage in id order (a topological order): embeddings, layers, gates (measured by the
 * backend, decided here; the members that exit go along the {@code then} edge, the rest along the
 * {@code else} edge, each branch compacted with the backend's gather), joins (the exits merged
 * back in member order), then the encoder output or the LM head. A batch therefore gives exactly
 * what single calls give, and exited members cost nothing further.
 *
 * @param <X> the backend's states
 * @param <M> the backend's encoder memory
 * @param <C> the backend's decoder caches
 */
final class PlanExecutable<X, M, C> implements Executable {
    private final Plan plan;
    private final LayerOps<X, M, C> ops;
    private final Gates gates;
    private volatile boolean closed;

    PlanExecutable(Plan plan, LayerOps<X, M, C> ops) {
        this.plan = plan;
        this.ops = ops;
        this.gates = new Gates(plan);
    }

    @Override
    public Plan plan() {
        return plan;
    }

    LayerOps<X, M, C> ops() {
        return ops;
    }

    Gates gates() {
        return gates;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("executable is closed");
        }
    }

    // ------------------------------------------------------------------ encoder stage

    @Override
    public EncodedBatch encode(List<EncoderInput> batch) {
        checkOpen();
        RequestChecks.encoderBatch(plan, batch);
        int n = batch.size();
        Workspace ws = ops.workspace();
        try {
            Encoded<M> e;
            try (Workspace tmp = ws.child()) {
                e = encode(ws, tmp, batch);
            }
            return new RtEncodedBatch<>(this, ws, e.memory(), e.exits(), e.tokens(), plan.config().decoderLayers());
        } catch (RuntimeException | Error ex) {
            ws.close();
            throw ex;
        }
    }

    private record Encoded<M>(M memory, List<List<EncoderExit>> exits, int[] tokens) {
    }

    /** Per stream and example: the gates evaluated and the last layer run. */
    private static final class StreamLog {
        final List<List<GateRecord>> gates = new ArrayList<>();
        final int[] exitLayer;
        final int[] tokens;

        StreamLog(int n) {
            exitLayer = new int[n];
            tokens = new int[n];
            for (int i = 0; i < n; i++) {
                gates.add(new ArrayList<>());
            }
        }
    }

    private Encoded<M> encode(Workspace keep, Workspace tmp, List<EncoderInput> batch) {
        int n = batch.size();
        int imageTokens = plan.config().imageTokens();
        Flow<X> flow = new Flow<>(plan, ops, tmp);
        Map<Stream, StreamLog> logs = new EnumMap<>(Stream.class);
        for (Stream s : plan.encoderStreams()) {
            StreamLog log = new StreamLog(n);
            for (int i = 0; i < n; i++) {
                int text = batch.get(i).tokens().length;
                log.tokens[i] = switch (s) {
                    case IMAGE -> imageTokens;
                    case TEXT -> text;
                    default -> imageTokens + text;
                };
            }
            logs.put(s, log);
        }
        M memory = null;
        for (PlanNode node : plan.encoderStage()) {
            switch (node) {
                case PlanNode.Embed e -> {
                    List<float[]> images = new ArrayList<>();
                    List<int[]> texts = new ArrayList<>();
                    for (EncoderInput in : batch) {
                        images.add(in.image());
                        texts.add(in.tokens());
                    }
                    X x = switch (e.stream()) {
                        case IMAGE -> ops.embedImages(tmp, images);
                        case TEXT -> ops.embedTexts(tmp, texts);
                        default -> throw new IllegalStateException("encoder stage embeds " + e.label());
                    };
                    flow.forward(node, Part.all(x, n));
                }
                case PlanNode.EncoderLayer l -> {
                    Part<X> in = flow.layerInput(node);
                    if (in != null) {
                        flow.forward(node, in.with(ops.encoderLayer(tmp, l.stream(), l.layer(), in.x())));
                    }
                }
                case PlanNode.ExitGate g -> {
                    Part<X> out = flow.single(node);
                    if (out != null) {
                        Gates.Outcome o = gates.evaluate(ops, g, out, flow.inputOfLayerBefore(g), plan.threshold(g));
                        StreamLog log = logs.get(g.stream());
                        for (int i = 0; i < out.size(); i++) {
                            log.gates.get(out.members()[i]).add(o.records()[i]);
                        }
                        branch(flow, g, out, o.exit());
                    }
                }
                case PlanNode.Join j -> {
                    Part<X> joined = join(flow, node, logs.get(j.stream()).exitLayer);
                    flow.forward(node, joined);
                }
                case PlanNode.EncoderOutput o -> {
                    List<Flow.Arrival<X>> parts = flow.arrivals(node);
                    X x = parts.get(0).part().x();
                    for (int i = 1; i < parts.size(); i++) {
                        x = ops.concat(tmp, x, parts.get(i).part().x());
                    }
                    memory = ops.encoderOutput(keep, x);
                }
                case PlanNode.DecoderLayer d -> throw new IllegalStateException("decoder layer in the encoder stage");
                case PlanNode.LmHead h -> throw new IllegalStateException("LM head in the encoder stage");
            }
        }
        List<List<EncoderExit>> exits = new ArrayList<>();
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            List<EncoderExit> ex = new ArrayList<>();
            for (Stream s : plan.encoderStreams()) {
                StreamLog log = logs.get(s);
                ex.add(new EncoderExit(s, log.exitLayer[i], log.tokens[i], log.gates.get(i)));
            }
            exits.add(ex);
            tokens[i] = imageTokens + batch.get(i).tokens().length;
        }
        return new Encoded<>(memory, exits, tokens);
    }

    /** Sends the members that exit along the gate's {@code then} edge and the others along its {@code else} edge. */
    static <X> void branch(Flow<X> flow, PlanNode.ExitGate g, Part<X> out, boolean[] exit) {
        int[] leave = Flow.where(exit, true);
        int[] stay = Flow.where(exit, false);
        if (leave.length > 0) {
            flow.send(g.id(), g.thenNode(), flow.select(out, leave));
        }
        if (stay.length > 0) {
            flow.send(g.id(), g.elseNode(), flow.select(out, stay));
        }
    }

    /** Merges a join's arrivals in member order, noting each member's last layer in {@code exitLayer}. */
    Part<X> join(Flow<X> flow, PlanNode node, int[] exitLayer) {
        List<Part<X>> parts = new ArrayList<>();
        for (Flow.Arrival<X> a : flow.arrivals(node)) {
            int layer = Flow.layerOf(plan.nodes().get(a.from()));
            for (int m : a.part().members()) {
                exitLayer[m] = layer;
            }
            parts.add(a.part());
        }
        if (parts.isEmpty()) {
            throw new IllegalStateException("nothing reached " + node.label());
        }
        return flow.merge(parts);
    }

    // ------------------------------------------------------------------ decoder stage

    @Override
    public DecoderStepper decoder(EncodedBatch encoded, int[] exampleOfRow, int horizon) {
        checkOpen();
        RtEncodedBatch<M> enc = own(encoded);
        RequestChecks.rows(enc.size(), exampleOfRow);
        if (horizon < 1) {
            throw new InvalidInputException("decoding horizon must be at least 1 token, got " + horizon);
        }
        return new RtStepper<>(this, enc, exampleOfRow, horizon);
    }

    @SuppressWarnings("unchecked")
    RtEncodedBatch<M> own(EncodedBatch encoded) {
        if (!(encoded instanceof RtEncodedBatch<?> b) || b.owner != this) {
            throw new IllegalArgumentException("encoded batch comes from another executable or backend: "
                    + (encoded == null ? "null" : encoded.getClass().getName()));
        }
        b.check();
        return (RtEncodedBatch<M>) b;
    }

    @Override
    public ScoringOutput score(EncodedBatch encoded, int[] exampleOfRow, int[][] sequences, int[] firstScored) {
        checkOpen();
        RtEncodedBatch<M> enc = own(encoded);
        RequestChecks.scoring(plan, enc.size(), exampleOfRow, sequences, firstScored);
        int n = exampleOfRow.length;
        // Rows grouped by example (stable): each example's rows are consecutive segments, one gate group.
        Integer[] boxed = new Integer[n];
        for (int r = 0; r < n; r++) {
            boxed[r] = r;
        }
        Arrays.sort(boxed, (a, b) -> Integer.compare(exampleOfRow[a], exampleOfRow[b]));
        int[] order = Arrays.stream(boxed).mapToInt(Integer::intValue).toArray();
        List<Integer> members = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (int r : order) {
            int e = exampleOfRow[r];
            if (!members.isEmpty() && members.get(members.size() - 1) == e) {
                counts.set(counts.size() - 1, counts.get(counts.size() - 1) + 1);
            } else {
                members.add(e);
                counts.add(1);
            }
        }
        int[][] ordered = new int[n][];
        int[] firstOrdered = new int[n];
        for (int k = 0; k < n; k++) {
            ordered[k] = sequences[order[k]];
            firstOrdered[k] = firstScored[order[k]];
        }
        int[] exitLayer = new int[enc.size()];
        List<List<GateRecord>> gateLog = new ArrayList<>();
        for (int e = 0; e < enc.size(); e++) {
            gateLog.add(new ArrayList<>());
        }
        float[][][] logits = new float[n][][];
        try (Workspace tmp = ops.workspace()) {
            Flow<X> flow = new Flow<>(plan, ops, tmp);
            for (PlanNode node : plan.decoderStage()) {
                switch (node) {
                    case PlanNode.Embed e -> flow.forward(node, new Part<>(ops.embedDecoder(tmp, ordered),
                            members.stream().mapToInt(Integer::intValue).toArray(),
                            counts.stream().mapToInt(Integer::intValue).toArray()));
                    case PlanNode.DecoderLayer l -> {
                        Part<X> in = flow.layerInput(node);
                        if (in != null) {
                            enc.prepareCross(ops, l.layer(), in.members());
                            flow.forward(node, in.with(ops.decoderPass(tmp, l.layer(), in.x(), enc.memory,
                                    exampleOfSegments(in))));
                        }
                    }
                    case PlanNode.ExitGate g -> {
                        Part<X> out = flow.single(node);
                        if (out != null) {
                            Gates.Outcome o = gates.evaluate(ops, g, out, flow.inputOfLayerBefore(g), plan.threshold(g));
                            for (int i = 0; i < out.size(); i++) {
                                gateLog.get(out.members()[i]).add(o.records()[i]);
                            }
                            branch(flow, g, out, o.exit());
                        }
                    }
                    case PlanNode.Join j -> flow.forward(node, join(flow, node, exitLayer));
                    case PlanNode.LmHead h -> {
                        Part<X> x = flow.single(node);
                        float[][][] lg = ops.logits(tmp, x.x(), firstOrdered);
                        for (int k = 0; k < n; k++) {
                            logits[order[k]] = lg[k];
                        }
                    }
                    case PlanNode.EncoderLayer e -> throw new IllegalStateException("encoder layer in the decoder stage");
                    case PlanNode.EncoderOutput o -> throw new IllegalStateException("encoder output in the decoder stage");
                }
            }
        }
        return new ScoringOutput(logits, exitLayer, gateLog);
    }

    /** Per segment of {@code part}, its member (in a scoring pass a member is an example). */
    static int[] exampleOfSegments(Part<?> part) {
        int total = 0;
        for (int s : part.segments()) {
            total += s;
        }
        int[] out = new int[total];
        int o = 0;
        for (int i = 0; i < part.size(); i++) {
            for (int j = 0; j < part.segments()[i]; j++) {
                out[o++] = part.members()[i];
            }
        }
        return out;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            ops.close();
        }
    }
}
