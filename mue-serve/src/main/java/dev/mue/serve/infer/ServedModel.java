package dev.mue.serve.infer;

import dev.mue.api.ExitTrace;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.api.policy.Task;
import dev.mue.serve.batch.Batcher;
import dev.mue.serve.metrics.ServeMetrics;
import dev.mue.serve.protocol.InferRequest;
import dev.mue.serve.protocol.InputTensor;
import dev.mue.serve.protocol.OutputTensor;
import dev.mue.serve.protocol.RequestException;
import dev.mue.serve.protocol.RequestedOutput;
import dev.mue.serve.protocol.TensorSpec;
import dev.mue.session.MueSession;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One model of the OIP server (the bundle serves two: {@code caption} and {@code entail}): its
 * inputs and outputs, and the way from a parsed request to its outputs.
 *
 * <p>{@link #infer} checks the request's inputs, outputs and parameters and decodes every element
 * before anything is queued, so that a bad request fails alone with a 400 and never enters a batch;
 * then it waits for its batch (requests with the same effective exit policy, through the session's
 * batch path) and turns the results into outputs and the exit-trace parameters.
 *
 * @param <I> one decoded element
 * @param <R> its result
 */
public abstract class ServedModel<I, R> implements AutoCloseable {
    /** The only model version served. */
    public static final String VERSION = "1";
    /** Request parameter of the binary-data extension: every output as binary unless the output says otherwise. */
    public static final String BINARY_OUTPUT = "binary_data_output";

    private final String name;
    private final Task task;
    private final SessionPool pool;
    private final PolicyOverrides overrides;
    private final ServeMetrics metrics;
    private final Batcher<ExitPolicy, I, R> batcher;

    /**
     * @param name the model's name in URLs
     * @param task the session task it runs (and whose policy it uses)
     */
    protected ServedModel(String name, Task task, SessionPool pool, PolicyOverrides overrides, BatchSettings batching,
            ServeMetrics metrics) {
        this.name = name;
        this.task = task;
        this.pool = pool;
        this.overrides = overrides;
        this.metrics = metrics;
        this.batcher = new Batcher<>(name, batching.maxBatch(), batching.maxDelayNanos(), batching.queueCapacity(),
                batching.workers(), this::runBatch, (items, requests) -> metrics.batch(name, items));
        metrics.queueDepth(name, batcher::queuedItems);
    }

    /** The model's name. */
    public final String name() {
        return name;
    }

    /** The session task. */
    public final Task task() {
        return task;
    }

    /** The sessions it runs on. */
    protected final SessionPool pool() {
        return pool;
    }

    /** Its inputs as model metadata reports them. */
    public abstract List<TensorSpec> inputs();

    /** Its outputs as model metadata reports them. */
    public abstract List<TensorSpec> outputs();

    /** Checks and decodes the request's inputs: one element each, in order. */
    protected abstract List<I> decode(InferRequest request);

    /** Runs a batch on {@code session}: one result per element, in order. */
    protected abstract List<R> run(MueSession session, List<I> items);

    /** A result's exit trace. */
    protected abstract ExitTrace trace(R result);

    /** The outputs of a request's results (every output; the caller picks the requested ones). */
    protected abstract List<OutputTensor> outputs(List<R> results);

    /** Metadata parameters: the policy it runs with and what requests may change. */
    public Map<String, Object> metadataParameters() {
        PolicyChoice c = pool.baseChoice(task);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("policy", c.policy().describe());
        p.put("policy_source", c.describeSource());
        p.put("max_batch_size", maxBatch());
        p.put("policy_overrides", overrides.allowed() ? String.join(",", PolicyOverrides.FIELDS) : "");
        p.put("min_threshold", overrides.minThreshold());
        return p;
    }

    /** The most elements one batch (and one request) holds. */
    public int maxBatch() {
        return batcher.maxBatch();
    }

    /** An answered request: its outputs, parameters and which outputs go as binary data. */
    public record Answer(List<OutputTensor> outputs, Map<String, Object> parameters, Set<String> binaryOutputs) {
    }

    /**
     * Answers a request: checks, decodes, queues, waits for its batch until {@code deadlineNanos}.
     *
     * @throws RequestException                            on a bad request (400)
     * @throws dev.mue.serve.protocol.UnavailableException if the queue is full or the deadline passes (503)
     */
    public Answer infer(InferRequest request, long deadlineNanos) throws InterruptedException {
        Set<String> known = new LinkedHashSet<>();
        inputs().forEach(s -> known.add(s.name()));
        for (InputTensor in : request.inputs()) {
            if (!known.contains(in.name())) {
                throw new RequestException("model " + name + " has no input '" + in.name() + "'; its inputs are "
                        + String.join(", ", known));
            }
        }
        for (String p : request.parameters().keySet()) {
            if (!PolicyOverrides.FIELDS.contains(p) && !p.equals(BINARY_OUTPUT)) {
                throw new RequestException("unknown request parameter '" + p + "'; this server takes "
                        + String.join(", ", PolicyOverrides.FIELDS) + " and " + BINARY_OUTPUT);
            }
        }
        Set<String> binary = binaryOutputs(request);
        Set<String> wanted = wantedOutputs(request);
        ExitPolicy policy = overrides.apply(pool.baseChoice(task).policy(), request.parameters());
        List<I> items = decode(request);
        Batcher<ExitPolicy, I, R>.Ticket ticket = batcher.submit(policy, items, deadlineNanos);
        Batcher.Outcome<R> outcome = ticket.await();
        metrics.queued(name, outcome.queuedNanos() / 1e9);
        List<ExitTrace> traces = new ArrayList<>();
        for (R r : outcome.results()) {
            ExitTrace t = trace(r);
            traces.add(t);
            metrics.trace(name, t);
        }
        List<OutputTensor> outs = new ArrayList<>();
        for (OutputTensor t : outputs(outcome.results())) {
            if (wanted.contains(t.name())) {
                outs.add(t);
            }
        }
        Map<String, Object> parameters = TraceParameters.of(pool.choice(task, policy), traces);
        parameters.put("batch_size", outcome.batchItems());
        parameters.put("queue_ms", Math.round(TimeUnit.NANOSECONDS.toMicros(outcome.queuedNanos())) / 1000.0);
        return new Answer(outs, parameters, binary);
    }

    private Set<String> wantedOutputs(InferRequest request) {
        Set<String> all = new LinkedHashSet<>();
        outputs().forEach(s -> all.add(s.name()));
        if (request.outputs().isEmpty()) {
            return all;
        }
        Set<String> wanted = new LinkedHashSet<>();
        for (RequestedOutput o : request.outputs()) {
            if (!all.contains(o.name())) {
                throw new RequestException("model " + name + " has no output '" + o.name() + "'; its outputs are "
                        + String.join(", ", all));
            }
            wanted.add(o.name());
        }
        return wanted;
    }

    private static Set<String> binaryOutputs(InferRequest request) {
        Object all = request.parameters().get(BINARY_OUTPUT);
        if (all != null && !(all instanceof Boolean)) {
            throw new RequestException("parameter '" + BINARY_OUTPUT + "' must be true or false, got '" + all + "'");
        }
        Set<String> binary = new LinkedHashSet<>();
        for (RequestedOutput o : request.outputs()) {
            if (o.binary() != null ? o.binary() : Boolean.TRUE.equals(all)) {
                binary.add(o.name());
            }
        }
        if (request.outputs().isEmpty() && Boolean.TRUE.equals(all)) {
            binary.add("*");
        }
        return binary;
    }

    /** The names of {@code answer}'s outputs that go as binary data ({@code *} in the set means all). */
    public static Set<String> binaryNames(Answer answer) {
        if (!answer.binaryOutputs().contains("*")) {
            return answer.binaryOutputs();
        }
        Set<String> all = new LinkedHashSet<>();
        answer.outputs().forEach(o -> all.add(o.name()));
        return all;
    }

    private List<R> runBatch(ExitPolicy policy, List<I> items) {
        try (SessionPool.Lease lease = pool.lease(task, policy)) {
            return run(lease.session(), items);
        }
    }

    /**
     * The elements of a BYTES input of shape [n] or [n, 1]: its count, checked against the others'.
     *
     * @param expected the count the other inputs have, or -1
     */
    protected final int count(InputTensor in, int expected) {
        long[] s = in.shape();
        boolean ok = (s.length == 1 || (s.length == 2 && s[1] == 1)) && s[0] >= 1;
        if (!ok) {
            throw new RequestException("input '" + in.name() + "' of model " + name + " has shape " + shapeText(s)
                    + "; expected [N] or [N,1] with N >= 1 (one element per image)");
        }
        if (expected >= 0 && s[0] != expected) {
            throw new RequestException("input '" + in.name() + "' has " + s[0] + " elements but the other inputs have "
                    + expected + "; give one per image");
        }
        if (s[0] > maxBatch()) {
            throw new RequestException("input '" + in.name() + "' has " + s[0] + " elements, over this server's --max-batch "
                    + maxBatch());
        }
        return (int) s[0];
    }

    /** The required input {@code input}. */
    protected final InputTensor required(InferRequest request, String input) {
        return request.input(input).orElseThrow(() -> new RequestException("model " + name + " needs input '" + input + "'"));
    }

    private static String shapeText(long[] s) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < s.length; i++) {
            b.append(i == 0 ? "" : ",").append(s[i]);
        }
        return b.append(']').toString();
    }

    /** Stops taking requests, finishes the queued ones, stops the workers. */
    @Override
    public void close() {
        batcher.close();
    }
}
