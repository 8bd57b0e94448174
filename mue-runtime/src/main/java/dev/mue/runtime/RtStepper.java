package dev.mue.runtime;

import dev.mue.api.GateRecord;
import dev.mue.api.InvalidInputException;
import dev.mue.api.layer.LayerOps;
import dev.mue.api.layer.Workspace;
import dev.mue.api.plan.KvFill;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanNode;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.RequestChecks;
import dev.mue.api.spi.StepOutput;
import java.util.ArrayList;
import java.util.List;

/**
 * Incremental decoding by the runtime: each step walks the decoder stage of the plan for one new
 * token per row. At a gate the rows that exit leave for the join, and the layers they skip get what
 * the plan's KV policy says for their position ({@link Plan#kvFillAfterExit}); the other rows go on,
 * compacted. The backend keeps the caches; the runtime says what goes into them.
 *
 * @param <X> the backend's states
 * @param <M> the backend's encoder memory
 * @param <C> the backend's decoder caches
 */
final class RtStepper<X, M, C> implements DecoderStepper {
    private final PlanExecutable<X, M, C> exec;
    private final Plan plan;
    private final LayerOps<X, M, C> ops;
    private final RtEncodedBatch<M> enc;
    private final Workspace ws;
    private final int horizon;
    private final int capacity;
    private C caches;
    private int[] example;
    private int[] position;
    private int step;
    private boolean closed;

    RtStepper(PlanExecutable<X, M, C> exec, RtEncodedBatch<M> enc, int[] exampleOfRow, int horizon) {
        this.exec = exec;
        this.plan = exec.plan();
        this.ops = exec.ops();
        this.enc = enc;
        this.horizon = horizon;
        this.capacity = plan.shapes().maxDecoderTokens();
        this.example = exampleOfRow.clone();
        this.position = new int[example.length];
        this.ws = ops.workspace();
        try {
            this.caches = ops.caches(ws, example.length, capacity);
        } catch (RuntimeException | Error e) {
            ws.close();
            throw e;
        }
    }

    @Override
    public int rows() {
        return example.length;
    }

    @Override
    public StepOutput step(int[] tokens) {
        check();
        int n = example.length;
        if (tokens == null || tokens.length != n) {
            throw new InvalidInputException("step got " + (tokens == null ? 0 : tokens.length) + " tokens for " + n
                    + " rows");
        }
        for (int p : position) {
            if (p >= capacity) {
                throw new InvalidInputException("decoding past the plan's " + capacity + " decoder positions");
            }
        }
        RequestChecks.tokens(plan, tokens, "decoder ");
        if (n == 0) {
            step++;
            return new StepOutput(new float[0][], new int[0], List.of());
        }
        int[] exitLayer = new int[n];
        List<List<GateRecord>> gateLog = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            gateLog.add(new ArrayList<>());
        }
        float[][] logits = new float[n][];
        try (Workspace tmp = ws.child()) {
            Flow<X> flow = new Flow<>(plan, ops, tmp);
            for (PlanNode node : plan.decoderStage()) {
                switch (node) {
                    case PlanNode.Embed e -> {
                        int[][] seqs = new int[n][];
                        for (int r = 0; r < n; r++) {
                            seqs[r] = new int[] {tokens[r]};
                        }
                        flow.forward(node, Part.all(ops.embedDecoder(tmp, seqs), n));
                    }
                    case PlanNode.DecoderLayer l -> {
                        Part<X> in = flow.layerInput(node);
                        if (in != null) {
                            int[] rows = in.members();
                            int[] examples = pick(example, rows);
                            enc.prepareCross(ops, l.layer(), examples);
                            flow.forward(node, in.with(ops.decoderStep(tmp, l.layer(), in.x(), caches, rows,
                                    pick(position, rows), enc.memory, examples)));
                        }
                    }
                    case PlanNode.ExitGate g -> {
                        Part<X> out = flow.single(node);
                        if (out != null) {
                            Gates.Outcome o = exec.gates().evaluate(ops, g, out, flow.inputOfLayerBefore(g),
                                    plan.threshold(g, step, horizon));
                            for (int i = 0; i < out.size(); i++) {
                                gateLog.get(out.members()[i]).add(o.records()[i]);
                            }
                            if (o.exits() > 0) {
                                fillSkipped(tmp, g.layer(), flow.select(out, Flow.where(o.exit(), true)));
                            }
                            PlanExecutable.branch(flow, g, out, o.exit());
                        }
                    }
                    case PlanNode.Join j -> flow.forward(node, exec.join(flow, node, exitLayer));
                    case PlanNode.LmHead h -> {
                        Part<X> x = flow.single(node);
                        float[][][] lg = ops.logits(tmp, x.x(), new int[n]);
                        for (int r = 0; r < n; r++) {
                            logits[r] = lg[r][0];
                        }
                    }
                    case PlanNode.EncoderLayer e -> throw new IllegalStateException("encoder layer in the decoder stage");
                    case PlanNode.EncoderOutput o -> throw new IllegalStateException("encoder output in the decoder stage");
                }
            }
        }
        for (int r = 0; r < n; r++) {
            position[r]++;
        }
        step++;
        return new StepOutput(logits, exitLayer, gateLog);
    }

    /** Gives the layers after {@code exitLayer} what the KV policy says for the exiting rows' positions. */
    private void fillSkipped(Workspace tmp, int exitLayer, Part<X> exited) {
        int[] rows = exited.members();
        int[] positions = pick(position, rows);
        for (KvFill fill : plan.kvFillAfterExit(exitLayer)) {
            switch (fill) {
                case KvFill.Propagate p -> ops.propagateKv(tmp, caches, p.layer(), rows, positions, exited.x());
                case KvFill.Copy c -> ops.copyKv(caches, c.layer(), c.fromLayer(), rows, positions);
            }
        }
    }

    private static int[] pick(int[] values, int[] at) {
        int[] out = new int[at.length];
        for (int i = 0; i < at.length; i++) {
            out[i] = values[at[i]];
        }
        return out;
    }

    @Override
    public void reorder(int[] parents) {
        check();
        for (int p : parents) {
            if (p < 0 || p >= example.length) {
                throw new InvalidInputException("reorder parent " + p + " outside 0.." + (example.length - 1));
            }
        }
        caches = ops.reorder(caches, parents.clone());
        example = pick(example, parents);
        position = pick(position, parents);
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("decoder stepper is closed");
        }
        enc.check();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            example = new int[0];
            position = new int[0];
            ws.close();
        }
    }
}
