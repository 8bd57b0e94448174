package dev.mue.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.EntailmentResult;
import dev.mue.api.ExitTrace;
import dev.mue.api.GateRecord;
import dev.mue.api.GenerationResult;
import dev.mue.session.MueSession;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.policy.Task;
import dev.mue.api.text.Tokenizer;
import dev.mue.api.text.Vocabulary;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints results as text (a result line, the exits summary and, with {@code --trace}, every gate)
 * or as JSON (one object per result, one per line, with the full trace). The JSON objects follow
 * {@code docs/cli-json.schema.json}: each carries {@code schema_version}
 * ({@link MueCli#JSON_SCHEMA_VERSION}), and the policy is an object in {@code policy.json}'s form.
 */
final class ResultPrinter {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private final MueSession session;
    private final Tokenizer tokenizer;
    private final PrintWriter out;
    private final OutputOptions options;

    ResultPrinter(MueSession session, PrintWriter out, OutputOptions options) {
        this.session = session;
        this.tokenizer = session.model().tokenizer();
        this.out = out;
        this.options = options;
    }

    /** With {@code --trace} (text mode), a header naming the backend, model, {@code task}'s policy and where it came from. */
    void header(Task task) {
        if (options.trace && !options.json) {
            out.println("# backend " + session.backendId() + " (" + session.device() + "), model "
                    + session.model().source() + " (" + session.model().config().name() + ")");
            out.println("# policy " + session.plan(task).policy().describe());
            out.println("# policy from: " + session.policy(task).describeSource());
        }
    }

    void caption(String image, GenerationResult r) {
        if (options.json) {
            ObjectNode o = JSON.createObjectNode();
            o.put("schema_version", MueCli.JSON_SCHEMA_VERSION);
            o.put("task", "caption");
            o.put("image", image);
            o.put("text", r.text());
            ArrayNode toks = o.putArray("tokens");
            for (int t : r.tokens()) {
                toks.add(t);
            }
            o.put("score", r.score());
            common(o, Task.CAPTION);
            o.set("trace", trace(r.trace()));
            json(o);
            return;
        }
        out.println(image + ": " + r.text());
        out.println("  " + summary(r.trace(), false));
        if (options.trace) {
            gates(r.trace());
        }
        out.flush();
    }

    void entailment(String image, String hypothesis, String premise, EntailmentResult r) {
        if (options.json) {
            ObjectNode o = JSON.createObjectNode();
            o.put("schema_version", MueCli.JSON_SCHEMA_VERSION);
            o.put("task", "entailment");
            o.put("image", image);
            o.put("hypothesis", hypothesis);
            if (premise == null) {
                o.putNull("premise");
            } else {
                o.put("premise", premise);
            }
            o.put("answer", r.answer());
            o.put("label", r.label());
            ObjectNode probs = o.putObject("probabilities");
            ObjectNode logs = o.putObject("log_probs");
            for (String a : MueSession.ENTAILMENT_ANSWERS) {
                probs.put(a, r.probabilities().get(a));
                logs.put(a, r.logProbs().get(a));
            }
            common(o, Task.ENTAIL);
            o.set("trace", trace(r.trace()));
            json(o);
            return;
        }
        out.println(image + ": " + r.answer() + " (" + r.label() + ")");
        for (String a : MueSession.ENTAILMENT_ANSWERS) {
            out.println(String.format(Locale.ROOT, "  %-6s probability %.4f  log-prob %.4f", a,
                    r.probabilities().get(a), r.logProbs().get(a)));
        }
        out.println("  " + summary(r.trace(), true));
        if (options.trace) {
            gates(r.trace());
        }
        out.flush();
    }

    private void common(ObjectNode o, Task task) {
        o.put("backend", session.backendId());
        o.put("model", session.model().source());
        try {
            o.set("policy", JSON.readTree(PolicyFile.policyJson(session.plan(task).policy())));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot read back the policy JSON: " + e.getOriginalMessage(), e);
        }
        o.put("policy_source", session.policy(task).describeSource());
        o.put("policy_certified", session.policy(task).certificate() != null);
    }

    private void json(ObjectNode o) {
        try {
            out.println(JSON.writeValueAsString(o));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
        out.flush();
    }

    /**
     * The exits summary, e.g. {@code exits: image L2/4, text L1/4, decoder avg 1.6/4 over 7 tokens;
     * expected time reduction 52.1% (layers), 48.3% (layer FLOPs), 40.2% (whole-pass FLOPs)}.
     */
    static String summary(ExitTrace t, boolean scoringPass) {
        List<String> parts = new ArrayList<>();
        for (EncoderExit e : t.encoder()) {
            parts.add(e.stream().label() + " L" + e.exitLayer() + "/" + t.encoderLayers());
        }
        if (scoringPass && t.decoder().size() == 1) {
            parts.add("decoder L" + t.decoder().get(0).exitLayer() + "/" + t.decoderLayers() + " (one scoring pass)");
        } else {
            parts.add(String.format(Locale.ROOT, "decoder avg %.1f/%d over %d tokens", t.decoderLayersUsed(),
                    t.decoderLayers(), t.decoder().size()));
        }
        return String.format(Locale.ROOT,
                "exits: %s; expected time reduction %.1f%% (layers), %.1f%% (layer FLOPs), %.1f%% (whole-pass FLOPs)",
                String.join(", ", parts), 100 * t.layerReduction(), 100 * t.flopReduction(),
                100 * t.wholePassFlopReduction());
    }

    private void gates(ExitTrace t) {
        for (EncoderExit e : t.encoder()) {
            for (GateRecord g : e.gates()) {
                out.println(String.format(Locale.ROOT, "  gate %-8s L%-2d %s", e.stream().label(), g.layer(), gate(g)));
            }
        }
        for (DecoderStepTrace s : t.decoder()) {
            for (GateRecord g : s.gates()) {
                out.println(String.format(Locale.ROOT, "  gate %-8s L%-2d %s  step %d token %s", "decoder", g.layer(),
                        gate(g), s.step(), quote(tokenText(s.token()))));
            }
        }
    }

    private static String gate(GateRecord g) {
        return String.format(Locale.ROOT, "similarity %9.6f  threshold %9.6f  %s", g.similarity(), g.threshold(),
                g.exit() ? "exit" : "continue");
    }

    private ObjectNode trace(ExitTrace t) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode enc = o.putArray("encoder");
        for (EncoderExit e : t.encoder()) {
            ObjectNode n = enc.addObject();
            n.put("stream", e.stream().label());
            n.put("exit_layer", e.exitLayer());
            n.put("layers", t.encoderLayers());
            n.put("tokens", e.tokens());
            gates(n.putArray("gates"), e.gates());
        }
        ArrayNode dec = o.putArray("decoder");
        for (DecoderStepTrace s : t.decoder()) {
            ObjectNode n = dec.addObject();
            n.put("step", s.step());
            n.put("token", s.token());
            n.put("token_text", tokenText(s.token()));
            n.put("exit_layer", s.exitLayer());
            n.put("layers", t.decoderLayers());
            gates(n.putArray("gates"), s.gates());
        }
        o.put("encoder_layers", t.encoderLayers());
        o.put("decoder_layers", t.decoderLayers());
        o.put("encoder_layers_used", t.encoderLayersUsed());
        o.put("decoder_layers_used", t.decoderLayersUsed());
        o.put("flops_run", t.flopsRun());
        o.put("flops_full", t.flopsFull());
        o.put("flops_fixed", t.flopsFixed());
        o.put("layer_reduction", t.layerReduction());
        o.put("flop_reduction", t.flopReduction());
        o.put("whole_pass_flop_reduction", t.wholePassFlopReduction());
        return o;
    }

    private static void gates(ArrayNode arr, List<GateRecord> gates) {
        for (GateRecord g : gates) {
            ObjectNode n = arr.addObject();
            n.put("stream", g.stream().label());
            n.put("layer", g.layer());
            n.put("similarity", g.similarity());
            n.put("threshold", g.threshold());
            n.put("exit", g.exit());
        }
    }

    private String tokenText(int token) {
        Vocabulary v = tokenizer.vocabulary();
        if (token < Vocabulary.SPECIALS || token >= v.size()) {
            return token >= 0 && token < v.size() ? v.symbol(token) : "#" + token;
        }
        return tokenizer.decode(new int[] {token});
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
