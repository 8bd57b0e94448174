package dev.mue.tck.golden;

import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.session.decode.BeamSearch;
import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.tck.cases.TckCase;
import dev.mue.tck.check.CaseRun;
import dev.mue.tck.check.ReferenceRun;
import dev.mue.tck.reference.RecordingStepper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The golden files: a case's full specification (model config, seeds, policy with its placed
 * thresholds, inputs, decoding) and the reference's key results on it, as JSON under
 * {@code dev/mue/tck/golden/<case>.json}.
 *
 * <p>Results kept: every encoder gate ({@code [layer, similarity rounded to 1e-9, threshold,
 * exit]}) and exit; the first and last 8 values, the sum and the sum of squares of each encoder
 * output; every decoder step's rows (exit, gates, top-5 logits as {@code [token, logit]} pairs,
 * best first) and the reorders between steps; the best hypotheses (tokens, score, exit layer per
 * step); the scoring pass (exits, gates, top-5 logits per scored position). Numbers are compared
 * within 1e-9 relative ({@code |a - b| <= 1e-9 * max(1, |b|)}); integers, booleans and strings
 * exactly.
 */
public final class GoldenFiles {
    /** Where the files live on the class path. */
    public static final String RESOURCE_DIR = "/dev/mue/tck/golden/";
    /** Relative tolerance of golden numbers. */
    public static final double TOLERANCE = 1e-9;
    private static final int FORMAT = 1;
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Objects indented, arrays on one line: compact files whose diffs still read well. */
    private static final ObjectWriter WRITER = JSON.writer(new DefaultPrettyPrinter()
            .withArrayIndenter(DefaultPrettyPrinter.FixedSpaceIndenter.instance));

    private GoldenFiles() {
    }

    /** The golden file of case {@code name} from the class path, or null if there is none. */
    public static JsonNode load(String name) {
        try (InputStream in = GoldenFiles.class.getResourceAsStream(RESOURCE_DIR + name + ".json")) {
            return in == null ? null : JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read golden file " + name + ".json", e);
        }
    }

    /** Pretty-printed JSON text. */
    public static String text(JsonNode n) {
        try {
            return WRITER.writeValueAsString(n) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The whole golden document of a case and the reference's run of it. */
    public static ObjectNode document(TckCase c, ReferenceRun ref) {
        ObjectNode root = F.objectNode();
        root.put("format", FORMAT);
        root.put("name", c.name());
        root.put("description", c.description());
        root.set("spec", spec(c));
        root.set("reference", results(ref.run()));
        return root;
    }

    // ------------------------------------------------------------------ specification

    /** The case's specification. */
    public static ObjectNode spec(TckCase c) {
        ObjectNode s = F.objectNode();
        ModelConfig m = c.model().config();
        ObjectNode model = s.putObject("model");
        ObjectNode cfg = model.putObject("config");
        cfg.put("name", m.name());
        cfg.put("dModel", m.dModel());
        cfg.put("encoderLayers", m.encoderLayers());
        cfg.put("decoderLayers", m.decoderLayers());
        cfg.put("heads", m.heads());
        cfg.put("ffnDim", m.ffnDim());
        cfg.put("vocabSize", m.vocabSize());
        cfg.put("maxPositions", m.maxPositions());
        cfg.put("tokenBucketSize", m.tokenBucketSize());
        cfg.put("imageBucketSize", m.imageBucketSize());
        cfg.put("imageSize", m.imageSize());
        ObjectNode rn = cfg.putObject("resnet");
        rn.put("stemChannels", m.resnet().stemChannels());
        rn.put("baseWidth", m.resnet().baseWidth());
        ArrayNode blocks = rn.putArray("blocks");
        for (int b : m.resnet().blocks()) {
            blocks.add(b);
        }
        cfg.put("attnScaleFactor", m.attnScaleFactor());
        cfg.put("layerNormEps", m.layerNormEps());
        model.put("seed", c.model().seed());
        model.put("std", c.model().std());
        ObjectNode shapes = s.putObject("shapes");
        shapes.put("maxTextTokens", c.shapes().maxTextTokens());
        shapes.put("maxDecoderTokens", c.shapes().maxDecoderTokens());
        ExitPolicy p = c.policy();
        ObjectNode pol = s.putObject("policy");
        pol.put("imageThreshold", p.imageThreshold());
        pol.put("textThreshold", p.textThreshold());
        pol.put("jointThreshold", p.jointThreshold());
        ObjectNode sch = pol.putObject("schedule");
        switch (p.decoderSchedule()) {
            case DecoderSchedule.Fixed f -> {
                sch.put("kind", "fixed");
                sch.put("theta", f.theta());
            }
            case DecoderSchedule.Decay d -> {
                sch.put("kind", "decay");
                sch.put("theta", d.theta());
                sch.put("beta", d.beta());
                sch.put("tau", d.tau());
            }
            case DecoderSchedule.ReferenceDecay r -> {
                sch.put("kind", "reference-decay");
                sch.put("theta", r.theta());
            }
            case DecoderSchedule.Table t -> {
                sch.put("kind", "table");
                ArrayNode ts = sch.putArray("thresholds");
                for (double v : t.thresholds()) {
                    ts.add(v);
                }
            }
        }
        pol.put("kvPolicy", p.kvPolicy().name());
        pol.put("encoderMode", p.encoderMode().name());
        pol.put("imageRelativeBiasInEncoder", p.imageRelativeBiasInEncoder());
        pol.put("minExitLayer", p.minExitLayer());
        ArrayNode inputs = s.putArray("inputs");
        for (TckCase.InputSpec in : c.inputs()) {
            ObjectNode o = inputs.addObject();
            o.put("seed", in.seed());
            o.put("textLength", in.textLength());
            o.set("tokens", ints(TckCase.input(m, in).tokens()));
        }
        if (c.decoding() != null) {
            ObjectNode d = s.putObject("decoding");
            d.put("beamSize", c.decoding().beamSize());
            d.put("maxLength", c.decoding().maxLength());
            d.put("noRepeatNgram", c.decoding().noRepeatNgram());
            d.put("lengthPenalty", c.decoding().lengthPenalty());
        } else {
            s.putNull("decoding");
        }
        if (c.answers() != null) {
            ArrayNode a = s.putArray("answers");
            for (int[] ans : c.answers()) {
                a.add(ints(ans));
            }
        } else {
            s.putNull("answers");
        }
        return s;
    }

    /** Rebuilds a case from its specification (the inverse of {@link #spec}). */
    public static TckCase caseOf(JsonNode doc) {
        JsonNode s = doc.get("spec");
        JsonNode cfg = s.get("model").get("config");
        JsonNode rn = cfg.get("resnet");
        ModelConfig m = new ModelConfig(cfg.get("name").asText(), cfg.get("dModel").asInt(),
                cfg.get("encoderLayers").asInt(), cfg.get("decoderLayers").asInt(), cfg.get("heads").asInt(),
                cfg.get("ffnDim").asInt(), cfg.get("vocabSize").asInt(), cfg.get("maxPositions").asInt(),
                cfg.get("tokenBucketSize").asInt(), cfg.get("imageBucketSize").asInt(), cfg.get("imageSize").asInt(),
                new ResNetConfig(rn.get("stemChannels").asInt(), rn.get("baseWidth").asInt(), intArray(rn.get("blocks"))),
                cfg.get("attnScaleFactor").asDouble(), cfg.get("layerNormEps").asDouble());
        TckCase.ModelSpec spec = new TckCase.ModelSpec(m, s.get("model").get("seed").asLong(),
                s.get("model").get("std").asDouble());
        PlanShapes shapes = new PlanShapes(s.get("shapes").get("maxTextTokens").asInt(),
                s.get("shapes").get("maxDecoderTokens").asInt());
        JsonNode p = s.get("policy");
        JsonNode sch = p.get("schedule");
        double theta = sch.get("theta").asDouble();
        DecoderSchedule schedule = switch (sch.get("kind").asText()) {
            case "fixed" -> new DecoderSchedule.Fixed(theta);
            case "decay" -> new DecoderSchedule.Decay(theta, sch.get("beta").asDouble(), sch.get("tau").asDouble());
            case "reference-decay" -> new DecoderSchedule.ReferenceDecay(theta);
            default -> throw new IllegalArgumentException("unknown schedule " + sch.get("kind"));
        };
        ExitPolicy policy = ExitPolicy.builder().imageThreshold(p.get("imageThreshold").asDouble())
                .textThreshold(p.get("textThreshold").asDouble()).jointThreshold(p.get("jointThreshold").asDouble())
                .decoderSchedule(schedule).kvPolicy(KvPolicy.valueOf(p.get("kvPolicy").asText()))
                .encoderMode(EncoderMode.valueOf(p.get("encoderMode").asText()))
                .imageRelativeBiasInEncoder(p.get("imageRelativeBiasInEncoder").asBoolean())
                .minExitLayer(p.get("minExitLayer").asInt()).build();
        List<TckCase.InputSpec> inputs = new ArrayList<>();
        for (JsonNode in : s.get("inputs")) {
            inputs.add(new TckCase.InputSpec(in.get("seed").asLong(), in.get("textLength").asInt()));
        }
        JsonNode d = s.get("decoding");
        DecodingOptions decoding = d == null || d.isNull() ? null : new DecodingOptions(d.get("beamSize").asInt(),
                d.get("maxLength").asInt(), d.get("noRepeatNgram").asInt(), d.get("lengthPenalty").asDouble());
        JsonNode a = s.get("answers");
        List<int[]> answers = null;
        if (a != null && !a.isNull()) {
            answers = new ArrayList<>();
            for (JsonNode ans : a) {
                answers.add(intArray(ans));
            }
        }
        return new TckCase(doc.get("name").asText(), doc.get("description").asText(), spec, shapes, policy, inputs,
                decoding, answers);
    }

    // ------------------------------------------------------------------ results

    /** The key results of a run. */
    public static ObjectNode results(CaseRun run) {
        ObjectNode r = F.objectNode();
        int d = run.tckCase().model().config().dModel();
        ArrayNode enc = r.putArray("encoder");
        for (CaseRun.Example e : run.encoded()) {
            ObjectNode o = enc.addObject();
            ArrayNode exits = o.putArray("exits");
            for (EncoderExit x : e.exits()) {
                ObjectNode xo = exits.addObject();
                xo.put("stream", x.stream().name());
                xo.put("exitLayer", x.exitLayer());
                xo.put("tokens", x.tokens());
                xo.set("gates", gates(x.gates()));
            }
            o.put("outputTokens", e.outputTokens());
            double[] out = e.output();
            ArrayNode head = o.putArray("outputHead");
            ArrayNode tail = o.putArray("outputTail");
            for (int i = 0; i < Math.min(8, out.length); i++) {
                head.add(out[i]);
                tail.add(out[out.length - Math.min(8, out.length) + i]);
            }
            double sum = 0;
            double sq = 0;
            for (double v : out) {
                sum += v;
                sq += v * v;
            }
            o.put("outputSum", sum);
            o.put("outputSumOfSquares", sq);
            o.put("outputLength", out.length / d);
        }
        ArrayNode steps = r.putArray("steps");
        int step = 0;
        for (RecordingStepper.Call call : run.replay()) {
            ObjectNode o = steps.addObject();
            switch (call) {
                case RecordingStepper.Reorder ro -> o.set("reorder", ints(ro.parents()));
                case RecordingStepper.Step s -> {
                    // The threshold the step ran at: the case's schedule at this step of its horizon.
                    double threshold = run.tckCase().policy().decoderSchedule().threshold(step,
                            run.tckCase().decoding().maxLength());
                    o.put("step", step++);
                    o.set("tokens", ints(s.tokens()));
                    o.put("threshold", threshold);
                    ArrayNode rows = o.putArray("rows");
                    for (int row = 0; row < s.exitLayer().length; row++) {
                        ObjectNode ro = rows.addObject();
                        ro.put("example", s.exampleOfRow()[row]);
                        ro.put("exitLayer", s.exitLayer()[row]);
                        ro.set("gates", gates(s.gates().get(row)));
                        ro.set("top5", top5(s.logits()[row]));
                    }
                }
            }
        }
        if (run.hypotheses() != null) {
            ArrayNode hyps = r.putArray("hypotheses");
            for (BeamSearch.Hypothesis h : run.hypotheses()) {
                ObjectNode o = hyps.addObject();
                o.set("tokens", ints(h.tokens()));
                o.put("score", h.score());
                o.set("exitLayers", ints(h.steps().stream().mapToInt(DecoderStepTrace::exitLayer).toArray()));
            }
        }
        if (run.scoring() != null) {
            ObjectNode sc = r.putObject("scoring");
            sc.set("exitLayer", ints(run.scoring().exitLayer()));
            ArrayNode g = sc.putArray("gates");
            for (List<GateRecord> gs : run.scoring().gates()) {
                g.add(gates(gs));
            }
            ArrayNode rows = sc.putArray("rows");
            for (double[][] row : run.scoring().logits()) {
                ArrayNode pos = rows.addArray();
                for (double[] l : row) {
                    pos.add(top5(l));
                }
            }
        }
        return r;
    }

    /** Gates as {@code [layer, similarity rounded to 1e-9, threshold, exit]}. */
    private static ArrayNode gates(List<GateRecord> gates) {
        ArrayNode a = F.arrayNode();
        for (GateRecord g : gates) {
            ArrayNode o = a.addArray();
            o.add(g.layer());
            o.add(Math.rint(g.similarity() * 1e9) / 1e9);
            o.add(g.threshold());
            o.add(g.exit());
        }
        return a;
    }

    private static ArrayNode top5(double[] logits) {
        ArrayNode a = F.arrayNode();
        boolean[] used = new boolean[logits.length];
        for (int k = 0; k < Math.min(5, logits.length); k++) {
            int best = -1;
            for (int v = 0; v < logits.length; v++) {
                if (!used[v] && (best < 0 || logits[v] > logits[best])) {
                    best = v;
                }
            }
            used[best] = true;
            ArrayNode pair = a.addArray();
            pair.add(best);
            pair.add(logits[best]);
        }
        return a;
    }

    private static ArrayNode ints(int[] v) {
        ArrayNode a = F.arrayNode();
        for (int x : v) {
            a.add(x);
        }
        return a;
    }

    private static int[] intArray(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).asInt();
        }
        return v;
    }

    // ------------------------------------------------------------------ comparison

    /** Every difference between {@code expected} and {@code actual} (numbers within {@link #TOLERANCE}), at most 30. */
    public static List<String> differences(JsonNode expected, JsonNode actual) {
        List<String> out = new ArrayList<>();
        diff("$", expected, actual, out);
        return out;
    }

    private static void diff(String path, JsonNode e, JsonNode a, List<String> out) {
        if (out.size() >= 30) {
            return;
        }
        if (e == null || a == null) {
            if (e != a) {
                out.add(path + ": " + (e == null ? "unexpected " + a : "missing, expected " + e));
            }
            return;
        }
        if (e.isNumber() && a.isNumber()) {
            if (e.isIntegralNumber() && a.isIntegralNumber()) {
                if (e.asLong() != a.asLong()) {
                    out.add(path + ": " + a + ", expected " + e);
                }
                return;
            }
            double x = e.asDouble();
            double y = a.asDouble();
            if (!(Math.abs(x - y) <= TOLERANCE * Math.max(1, Math.abs(x)))) {
                out.add(String.format(Locale.ROOT, "%s: %.17g, expected %.17g", path, y, x));
            }
            return;
        }
        if (e.getNodeType() != a.getNodeType()) {
            out.add(path + ": " + a.getNodeType() + " " + abbreviate(a) + ", expected " + e.getNodeType() + " "
                    + abbreviate(e));
            return;
        }
        if (e.isArray()) {
            if (e.size() != a.size()) {
                out.add(path + ": " + a.size() + " entries, expected " + e.size() + " (" + abbreviate(a) + " vs "
                        + abbreviate(e) + ")");
                return;
            }
            for (int i = 0; i < e.size(); i++) {
                diff(path + "[" + i + "]", e.get(i), a.get(i), out);
            }
        } else if (e.isObject()) {
            for (Map.Entry<String, JsonNode> f : e.properties()) {
                diff(path + "." + f.getKey(), f.getValue(), a.get(f.getKey()), out);
            }
            for (Iterator<String> it = a.fieldNames(); it.hasNext();) {
                String k = it.next();
                if (!e.has(k)) {
                    diff(path + "." + k, null, a.get(k), out);
                }
            }
        } else if (!e.equals(a)) {
            out.add(path + ": " + a + ", expected " + e);
        }
    }

    private static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
