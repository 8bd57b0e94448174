package dev.mue.api.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mue.api.PolicyFormatException;
import dev.mue.api.exit.CosineCriterion;
import dev.mue.api.exit.ExitCriteria;
import dev.mue.api.files.AtomicFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads and writes {@code policy.json}: the exit policies of a model, one per task, each with its
 * calibration certificate when it has one. A bundle may hold one beside {@code config.json}; the
 * CLI's {@code --policy FILE} reads the same format.
 *
 * <pre>{@code
 * {
 *   "format": "mue-policy", "version": 1,
 *   "caption": {"image_threshold": 1.0, "text_threshold": 1.0,
 *               "decoder": {"schedule": "decay", "theta": 0.95, "beta": 0.95, "tau": 1.0},
 *               "kv_policy": "propagate", "certificate": {...}},
 *   "entail":  {"image_threshold": 1.0, "text_threshold": 1.0,
 *               "decoder": {"schedule": "fixed", "theta": 0.9}}
 * }
 * }</pre>
 *
 * <p>Required per task: {@code image_threshold}, {@code text_threshold}, {@code decoder}. Optional,
 * with their defaults: {@code encoder} ({@code decomposed}; or {@code joint}), {@code joint_threshold}
 * (the smaller stream threshold), {@code kv_policy} ({@code propagate}; {@code copy}, {@code omit}),
 * {@code image_relative_bias} (true), {@code min_exit_layer} (1), {@code encoder_criterion} and
 * {@code decoder_criterion} ({@code cosine}; the decoder may use {@code calm}), {@code certificate} (none).
 *
 * <p>Parsing is strict, as for {@code config.json}: invalid JSON, an unknown or missing key, a value
 * of the wrong type or out of range is a {@link PolicyFormatException} whose one line names the
 * file and the key. A file is never half-read.
 */
public final class PolicyFile {
    /** File name of a bundle's policies. */
    public static final String NAME = "policy.json";
    /** The value of the {@code format} key. */
    public static final String FORMAT = "mue-policy";
    /** The version this reader and writer speak. */
    public static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_BYTES = 4 << 20;
    private static final Set<String> ROOT_KEYS = Set.of("format", "version", "caption", "entail");
    private static final Set<String> TASK_KEYS = Set.of("encoder", "image_threshold", "text_threshold",
            "joint_threshold", "decoder", "kv_policy", "image_relative_bias", "min_exit_layer", "encoder_criterion",
            "decoder_criterion", "certificate");
    private static final Set<String> CERT_KEYS = Set.of("task", "loss", "delta", "epsilon", "n", "empirical_risk",
            "p_value", "p_value_method", "fwer_method", "data", "model_sha256", "grid", "path", "measured");
    private static final Set<String> DATA_KEYS = Set.of("split", "seed", "examples", "path_examples", "test_examples",
            "sha256");
    private static final Set<String> GRID_KEYS = Set.of("image", "text", "decoder", "decoder_schedule");
    private static final Set<String> STEP_KEYS = Set.of("image", "text", "decoder", "path_risk", "test_risk", "p_value",
            "accepted");
    private static final Set<String> MEASURED_KEYS = Set.of("layer_reduction", "flop_reduction", "time_reduction",
            "full_seconds", "policy_seconds", "backend", "repeats");

    private PolicyFile() {
    }

    /**
     * Reads a policy file; {@code source} labels the result (e.g. {@code bundle policy.json}).
     *
     * @throws PolicyFormatException when the file is missing, unreadable or invalid
     */
    public static ModelPolicies read(Path file, String source) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new PolicyFormatException("policy file not found: " + file);
            }
            if (Files.size(file) > MAX_BYTES) {
                throw new PolicyFormatException(file + ": policy file larger than " + MAX_BYTES + " bytes");
            }
            return parse(Files.readString(file), file.toString(), source);
        } catch (IOException e) {
            throw new PolicyFormatException(file + ": cannot read policy file: " + e.getMessage(), e);
        }
    }

    /** Parses policy-file text; {@code file} names it in messages, {@code source} labels the result. */
    public static ModelPolicies parse(String text, String file, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new PolicyFormatException(file + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
        Ctx c = new Ctx(file);
        if (root == null || !root.isObject()) {
            throw new PolicyFormatException(file + ": a policy file must be a JSON object");
        }
        c.keys(root, "", ROOT_KEYS);
        if (!FORMAT.equals(c.string(root, "", "format"))) {
            throw c.error("format", "must be \"" + FORMAT + "\"");
        }
        int version = c.integer(root, "", "version");
        if (version != VERSION) {
            throw c.error("version", "version " + version + " is not supported (this mue reads version " + VERSION + ")");
        }
        TaskPolicy caption = root.has("caption") ? task(c, root.get("caption"), Task.CAPTION) : null;
        TaskPolicy entail = root.has("entail") ? task(c, root.get("entail"), Task.ENTAIL) : null;
        if (caption == null && entail == null) {
            throw new PolicyFormatException(file + ": no policy: expected a 'caption' or an 'entail' entry");
        }
        return new ModelPolicies(caption, entail, source);
    }

    private static TaskPolicy task(Ctx c, JsonNode n, Task task) {
        String at = task.key();
        c.object(n, at);
        c.keys(n, at, TASK_KEYS);
        String mode = n.has("encoder") ? c.string(n, at, "encoder") : "decomposed";
        EncoderMode encoder = switch (mode) {
            case "decomposed" -> EncoderMode.DECOMPOSED;
            case "joint" -> EncoderMode.JOINT;
            default -> throw c.error(at + ".encoder", "must be decomposed or joint, got '" + mode + "'");
        };
        double image = c.threshold(n, at, "image_threshold");
        double text = c.threshold(n, at, "text_threshold");
        double joint = n.has("joint_threshold") ? c.threshold(n, at, "joint_threshold") : Math.min(image, text);
        DecoderSchedule schedule = schedule(c, n.get("decoder"), at + ".decoder");
        String kvName = n.has("kv_policy") ? c.string(n, at, "kv_policy") : "propagate";
        KvPolicy kv;
        try {
            kv = KvPolicy.valueOf(kvName.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw c.error(at + ".kv_policy", "must be propagate, copy or omit, got '" + kvName + "'");
        }
        boolean imageRel = true;
        if (n.has("image_relative_bias")) {
            if (!n.get("image_relative_bias").isBoolean()) {
                throw c.error(at + ".image_relative_bias", "must be true or false");
            }
            imageRel = n.get("image_relative_bias").booleanValue();
        }
        int minLayer = n.has("min_exit_layer") ? c.integer(n, at, "min_exit_layer") : 1;
        if (minLayer < 1) {
            throw c.error(at + ".min_exit_layer", "must be at least 1, got " + minLayer);
        }
        String encoderCriterion = criterion(c, n, at, "encoder_criterion");
        String decoderCriterion = criterion(c, n, at, "decoder_criterion");
        ExitPolicy p = ExitPolicy.builder().encoderMode(encoder).imageThreshold(image).textThreshold(text)
                .jointThreshold(joint).decoderSchedule(schedule).kvPolicy(kv).imageRelativeBiasInEncoder(imageRel)
                .minExitLayer(minLayer).encoderCriterion(encoderCriterion).decoderCriterion(decoderCriterion).build();
        Certificate cert = n.has("certificate") ? certificate(c, n.get("certificate"), at + ".certificate") : null;
        if (cert != null && Task.parse(cert.task()) != task) {
            throw c.error(at + ".certificate.task", "is '" + cert.task() + "' in the '" + task.key() + "' entry");
        }
        return new TaskPolicy(p, cert);
    }

    private static String criterion(Ctx c, JsonNode n, String at, String key) {
        if (!n.has(key)) {
            return CosineCriterion.ID;
        }
        String id = c.string(n, at, key);
        if (!ExitCriteria.ID.matcher(id).matches()) {
            throw c.error(at + "." + key, "must be an exit criterion id such as cosine or calm, got '" + id + "'");
        }
        return id;
    }

    private static DecoderSchedule schedule(Ctx c, JsonNode n, String at) {
        if (n == null) {
            throw c.error(at, "is required");
        }
        c.object(n, at);
        String kind = c.string(n, at, "schedule");
        Set<String> keys = switch (kind) {
            case "fixed", "reference-decay" -> Set.of("schedule", "theta");
            case "decay" -> Set.of("schedule", "theta", "beta", "tau");
            case "table" -> Set.of("schedule", "thresholds");
            default -> throw c.error(at + ".schedule", "must be fixed, decay, reference-decay or table, got '" + kind + "'");
        };
        c.keys(n, at, keys);
        if (kind.equals("table")) {
            double[] table = c.numbers(n, at, "thresholds").stream().mapToDouble(Double::doubleValue).toArray();
            return c.build(at + ".thresholds", () -> new DecoderSchedule.Table(table));
        }
        double theta = c.threshold(n, at, "theta");
        return switch (kind) {
            case "fixed" -> new DecoderSchedule.Fixed(theta);
            case "reference-decay" -> new DecoderSchedule.ReferenceDecay(theta);
            default -> c.build(at, () -> new DecoderSchedule.Decay(theta, c.number(n, at, "beta"), c.number(n, at, "tau")));
        };
    }

    private static Certificate certificate(Ctx c, JsonNode n, String at) {
        c.object(n, at);
        c.keys(n, at, CERT_KEYS);
        JsonNode d = c.child(n, at, "data");
        c.keys(d, at + ".data", DATA_KEYS);
        String dAt = at + ".data";
        Certificate.Data data = c.build(dAt, () -> new Certificate.Data(c.string(d, dAt, "split"), c.longValue(d, dAt, "seed"),
                c.integer(d, dAt, "examples"), c.integer(d, dAt, "path_examples"), c.integer(d, dAt, "test_examples"),
                c.string(d, dAt, "sha256")));
        JsonNode g = c.child(n, at, "grid");
        String gAt = at + ".grid";
        c.keys(g, gAt, GRID_KEYS);
        Certificate.Grid grid = c.build(gAt, () -> new Certificate.Grid(c.numbers(g, gAt, "image"), c.numbers(g, gAt, "text"),
                c.numbers(g, gAt, "decoder"), c.string(g, gAt, "decoder_schedule")));
        JsonNode p = n.get("path");
        if (p == null || !p.isArray()) {
            throw c.error(at + ".path", "must be an array");
        }
        List<Certificate.PathStep> path = new ArrayList<>();
        for (int i = 0; i < p.size(); i++) {
            JsonNode s = p.get(i);
            String sAt = at + ".path[" + i + "]";
            c.object(s, sAt);
            c.keys(s, sAt, STEP_KEYS);
            if (!s.has("accepted") || !s.get("accepted").isBoolean()) {
                throw c.error(sAt + ".accepted", "must be true or false");
            }
            path.add(c.build(sAt, () -> new Certificate.PathStep(c.threshold(s, sAt, "image"), c.threshold(s, sAt, "text"),
                    c.threshold(s, sAt, "decoder"), c.number(s, sAt, "path_risk"), c.nullableNumber(s, sAt, "test_risk"),
                    c.nullableNumber(s, sAt, "p_value"), s.get("accepted").booleanValue())));
        }
        JsonNode m = c.child(n, at, "measured");
        String mAt = at + ".measured";
        c.keys(m, mAt, MEASURED_KEYS);
        Certificate.Measured measured = c.build(mAt, () -> new Certificate.Measured(c.number(m, mAt, "layer_reduction"),
                c.number(m, mAt, "flop_reduction"), c.number(m, mAt, "time_reduction"), c.number(m, mAt, "full_seconds"),
                c.number(m, mAt, "policy_seconds"), c.string(m, mAt, "backend"), c.integer(m, mAt, "repeats")));
        return c.build(at, () -> new Certificate(c.string(n, at, "task"), c.string(n, at, "loss"), c.number(n, at, "delta"),
                c.number(n, at, "epsilon"), c.integer(n, at, "n"), c.number(n, at, "empirical_risk"),
                c.number(n, at, "p_value"), c.string(n, at, "p_value_method"), c.string(n, at, "fwer_method"), data,
                c.string(n, at, "model_sha256"), grid, path, measured));
    }

    /** The JSON text of {@code policies}, keys in a fixed order, numbers in their shortest exact form. */
    public static String toJson(ModelPolicies policies) {
        if (policies.isEmpty()) {
            throw new IllegalArgumentException("no policy to write");
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        for (Task t : Task.values()) {
            policies.forTask(t).ifPresent(tp -> root.set(t.key(), task(tp)));
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write policy JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * One policy as the compact JSON object that {@code policy.json} holds per task (without a
     * certificate): {@code encoder}, the thresholds, {@code decoder} with its schedule,
     * {@code kv_policy}, {@code image_relative_bias}, {@code min_exit_layer} and the criteria when
     * not MuE's cosine. What {@code mue caption --json} reports as a result's policy.
     */
    public static String policyJson(ExitPolicy policy) {
        try {
            return JSON.writeValueAsString(task(new TaskPolicy(policy, null)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write policy JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Writes {@code policies} to {@code file} atomically (never half-written). */
    public static void write(ModelPolicies policies, Path file) throws IOException {
        String text = toJson(policies);
        AtomicFile.write(file, tmp -> Files.writeString(tmp, text));
    }

    private static ObjectNode task(TaskPolicy tp) {
        ExitPolicy p = tp.policy();
        ObjectNode o = JSON.createObjectNode();
        o.put("encoder", p.encoderMode() == EncoderMode.DECOMPOSED ? "decomposed" : "joint");
        o.put("image_threshold", p.imageThreshold());
        o.put("text_threshold", p.textThreshold());
        o.put("joint_threshold", p.jointThreshold());
        ObjectNode d = o.putObject("decoder");
        switch (p.decoderSchedule()) {
            case DecoderSchedule.Fixed f -> {
                d.put("schedule", "fixed");
                d.put("theta", f.theta());
            }
            case DecoderSchedule.Decay f -> {
                d.put("schedule", "decay");
                d.put("theta", f.theta());
                d.put("beta", f.beta());
                d.put("tau", f.tau());
            }
            case DecoderSchedule.ReferenceDecay f -> {
                d.put("schedule", "reference-decay");
                d.put("theta", f.theta());
            }
            case DecoderSchedule.Table f -> {
                d.put("schedule", "table");
                ArrayNode ts = d.putArray("thresholds");
                for (double t : f.thresholds()) {
                    ts.add(t);
                }
            }
        }
        o.put("kv_policy", p.kvPolicy().name().toLowerCase(Locale.ROOT));
        o.put("image_relative_bias", p.imageRelativeBiasInEncoder());
        o.put("min_exit_layer", p.minExitLayer());
        // Written only when not MuE's default, so that files of earlier versions read and write the same.
        if (!p.encoderCriterion().equals(CosineCriterion.ID)) {
            o.put("encoder_criterion", p.encoderCriterion());
        }
        if (!p.decoderCriterion().equals(CosineCriterion.ID)) {
            o.put("decoder_criterion", p.decoderCriterion());
        }
        if (tp.certificate() != null) {
            o.set("certificate", certificate(tp.certificate()));
        }
        return o;
    }

    private static ObjectNode certificate(Certificate c) {
        ObjectNode o = JSON.createObjectNode();
        o.put("task", c.task());
        o.put("loss", c.loss());
        o.put("delta", c.delta());
        o.put("epsilon", c.epsilon());
        o.put("n", c.n());
        o.put("empirical_risk", c.empiricalRisk());
        o.put("p_value", c.pValue());
        o.put("p_value_method", c.pValueMethod());
        o.put("fwer_method", c.fwerMethod());
        ObjectNode d = o.putObject("data");
        d.put("split", c.data().split());
        d.put("seed", c.data().seed());
        d.put("examples", c.data().examples());
        d.put("path_examples", c.data().pathExamples());
        d.put("test_examples", c.data().testExamples());
        d.put("sha256", c.data().sha256());
        o.put("model_sha256", c.modelSha256());
        ObjectNode g = o.putObject("grid");
        c.grid().image().forEach(g.putArray("image")::add);
        c.grid().text().forEach(g.putArray("text")::add);
        c.grid().decoder().forEach(g.putArray("decoder")::add);
        g.put("decoder_schedule", c.grid().decoderSchedule());
        ArrayNode path = o.putArray("path");
        for (Certificate.PathStep s : c.path()) {
            ObjectNode n = path.addObject();
            n.put("image", s.image());
            n.put("text", s.text());
            n.put("decoder", s.decoder());
            n.put("path_risk", s.pathRisk());
            n.put("test_risk", s.testRisk());
            n.put("p_value", s.pValue());
            n.put("accepted", s.accepted());
        }
        ObjectNode m = o.putObject("measured");
        Certificate.Measured x = c.measured();
        m.put("layer_reduction", x.layerReduction());
        m.put("flop_reduction", x.flopReduction());
        m.put("time_reduction", x.timeReduction());
        m.put("full_seconds", x.fullSeconds());
        m.put("policy_seconds", x.policySeconds());
        m.put("backend", x.backend());
        m.put("repeats", x.repeats());
        return o;
    }

    /** Typed reads from the JSON tree; every failure names the file and the dotted key. */
    private record Ctx(String file) {
        PolicyFormatException error(String key, String what) {
            return new PolicyFormatException(file + ": key '" + key + "' " + what);
        }

        private static String join(String at, String key) {
            return at.isEmpty() ? key : at + "." + key;
        }

        void object(JsonNode n, String at) {
            if (n == null || !n.isObject()) {
                throw error(at, "must be a JSON object");
            }
        }

        JsonNode child(JsonNode n, String at, String key) {
            JsonNode c = n.get(key);
            object(c, join(at, key));
            return c;
        }

        void keys(JsonNode n, String at, Set<String> allowed) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext();) {
                String k = it.next();
                if (!allowed.contains(k)) {
                    throw new PolicyFormatException(file + ": unknown key '" + join(at, k) + "'");
                }
            }
        }

        private JsonNode required(JsonNode n, String at, String key) {
            JsonNode v = n.get(key);
            if (v == null || v.isNull()) {
                throw error(join(at, key), "is required");
            }
            return v;
        }

        String string(JsonNode n, String at, String key) {
            JsonNode v = required(n, at, key);
            if (!v.isTextual()) {
                throw error(join(at, key), "must be a string");
            }
            return v.textValue();
        }

        int integer(JsonNode n, String at, String key) {
            JsonNode v = required(n, at, key);
            if (!v.isInt()) {
                throw error(join(at, key), "must be a 32-bit integer");
            }
            return v.intValue();
        }

        long longValue(JsonNode n, String at, String key) {
            JsonNode v = required(n, at, key);
            if (!v.canConvertToLong() || !v.isIntegralNumber()) {
                throw error(join(at, key), "must be a 64-bit integer");
            }
            return v.longValue();
        }

        double number(JsonNode n, String at, String key) {
            JsonNode v = required(n, at, key);
            if (!v.isNumber()) {
                throw error(join(at, key), "must be a number");
            }
            return v.doubleValue();
        }

        Double nullableNumber(JsonNode n, String at, String key) {
            JsonNode v = n.get(key);
            if (v == null) {
                throw error(join(at, key), "is required (null when not tested)");
            }
            return v.isNull() ? null : number(n, at, key);
        }

        double threshold(JsonNode n, String at, String key) {
            double t = number(n, at, key);
            if (!(t >= -1 && t <= 1)) {
                throw error(join(at, key), "must be in [-1, 1] (a cosine similarity), got " + t);
            }
            return t;
        }

        List<Double> numbers(JsonNode n, String at, String key) {
            JsonNode v = required(n, at, key);
            if (!v.isArray()) {
                throw error(join(at, key), "must be an array of numbers");
            }
            List<Double> out = new ArrayList<>();
            for (JsonNode x : v) {
                if (!x.isNumber()) {
                    throw error(join(at, key), "must be an array of numbers");
                }
                out.add(x.doubleValue());
            }
            return out;
        }

        /** Runs a record constructor; its range checks (which name the key) become format errors. */
        <T> T build(String at, java.util.function.Supplier<T> f) {
            try {
                return f.get();
            } catch (IllegalArgumentException | NullPointerException e) {
                String m = e.getMessage() == null ? e.toString() : e.getMessage();
                throw new PolicyFormatException(file + ": in '" + at + "': " + m, e);
            }
        }
    }
}
