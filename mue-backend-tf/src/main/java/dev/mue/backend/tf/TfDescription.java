package dev.mue.backend.tf;

import dev.mue.api.plan.Plan;
import dev.mue.api.policy.EncoderMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * A listing of a compiled executable's graphs, read back from the session's {@link GraphDef} (what
 * TensorFlow executes, not what the builder meant to build): the entries of one encoder pass, one
 * decoding step and one scoring pass, each a single {@code Session.run}, and every function with
 * its {@code If} nodes (the plan's gates), their {@code then} and {@code else} branches and the
 * layer ops each function holds.
 */
final class TfDescription {
    private static final Set<String> CONDITIONALS = Set.of("If", "StatelessIf", "StatefulIf", "While",
            "StatelessWhile", "StatefulWhile", "Case", "StatelessCase");
    private static final Pattern LAYER = Pattern.compile("(?:^|/)((?:enc|dec|score)_(?:L|kv_L)\\d+)/");
    private static final Pattern GATE = Pattern.compile("(enc|dec|score)_gate_L(\\d+)/(?:exit_)?if$");
    private static final List<String> ORDER = List.of("encode_example", "enc_level", "enc_exit", "decode_step",
            "dec_level", "dec_pass", "dec_exit", "dec_keep", "score_example", "score_level", "score_exit");
    private static final Set<String> TOP_LEVEL = Set.of("encode_example", "decode_step", "score_example");

    private TfDescription() {
    }

    static String describe(Plan plan, GraphDef g, List<String> entries) {
        Map<String, FunctionDef> functions = new TreeMap<>(Comparator.comparingInt(TfDescription::rank)
                .thenComparing(Comparator.naturalOrder()));
        for (FunctionDef f : g.getLibrary().getFunctionList()) {
            functions.put(f.getSignature().getName(), f);
        }
        long ifs = g.getNodeList().stream().filter(n -> CONDITIONALS.contains(n.getOp())).count();
        for (FunctionDef f : functions.values()) {
            ifs += f.getNodeDefList().stream().filter(n -> CONDITIONALS.contains(n.getOp())).count();
        }
        String encoderStreams = plan.policy().encoderMode() == EncoderMode.DECOMPOSED ? "image|text" : "joint";
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "compiled graphs (backend tf, TensorFlow %s): %d ops in the session graph "
                + "(weights and folded biases as variables), %d functions, %d conditional nodes%n", TfNatives.load(),
                g.getNodeCount(), functions.size(), ifs));
        if (plan.policy().minExitLayer() > 1) {
            sb.append(String.format(Locale.ROOT, "gates below layer %d are disabled by the policy: their similarity is "
                    + "computed and recorded in line, with no branch%n", plan.policy().minExitLayer()));
        }
        sb.append("entries, each one Session.run:\n");
        for (String prefix : entries) {
            List<NodeDef> nodes = g.getNodeList().stream().filter(n -> n.getName().startsWith(prefix)).toList();
            // A function call is a node whose op is the function's name.
            List<String> calls = nodes.stream().map(NodeDef::getOp).filter(functions::containsKey).distinct()
                    .toList();
            String name = prefix.endsWith("_") ? prefix.substring(0, prefix.length() - 1) : prefix;
            String what = name.startsWith("encode") ? "encoder pass, batch of 1, one call per example"
                    : name.startsWith("step") ? "decoding step, 1 row, one batched call for all rows; KV caches in and out"
                    : "scoring pass, 1 example, one call per example";
            sb.append(String.format(Locale.ROOT, "  %-10s %s (%d ops): calls %s%n", name, what, nodes.size(),
                    String.join(", ", calls)));
        }
        sb.append("functions (an If runs only the branch its condition picks; the other's ops never execute):\n");
        for (FunctionDef f : functions.values()) {
            String name = f.getSignature().getName();
            List<NodeDef> nodes = f.getNodeDefList();
            String role = TOP_LEVEL.stream().anyMatch(name::startsWith) ? "top level"
                    : name.startsWith("dec_exit_") ? "then branch (rows exit)"
                    : name.startsWith("dec_keep_") ? "else branch (no row exits)"
                    : name.startsWith("dec_level_") ? "then branch (rows go on)"
                    : name.startsWith("dec_pass_") ? "else branch (no row left)"
                    : name.contains("_exit_") ? "then branch (exit)" : "else branch (next layer)";
            sb.append(String.format(Locale.ROOT, "  %-28s %-24s %4d ops; layer ops: %s%n", name, role, nodes.size(),
                    layers(nodes)));
            for (NodeDef n : nodes) {
                if (CONDITIONALS.contains(n.getOp())) {
                    String test = !n.getName().startsWith("dec_") ? "cos(out, in) > threshold"
                            : n.getName().endsWith("/exit_if") ? "any row: cos(out, in) > threshold"
                            : "any row: cos(out, in) <= threshold";
                    sb.append(String.format(Locale.ROOT, "      %-17s %s: %s(%s) then %s else %s%n",
                            gateLabel(n.getName(), encoderStreams), n.getName(), n.getOp(), test,
                            n.getAttrOrDefault("then_branch", AttrValue.getDefaultInstance()).getFunc().getName(),
                            n.getAttrOrDefault("else_branch", AttrValue.getDefaultInstance()).getFunc().getName()));
                }
            }
        }
        return sb.toString();
    }

    private static int rank(String function) {
        for (int i = 0; i < ORDER.size(); i++) {
            if (function.startsWith(ORDER.get(i))) {
                return i;
            }
        }
        return ORDER.size();
    }

    /** The plan's gate label for an If node, e.g. {@code gate.text.L1}. */
    private static String gateLabel(String name, String encoderStreams) {
        Matcher m = GATE.matcher(name);
        if (!m.find()) {
            return "";
        }
        String stream = switch (m.group(1)) {
            case "dec", "score" -> "decoder";
            default -> {
                Matcher s = Pattern.compile("^(image|text|joint)/").matcher(name);
                yield s.find() ? s.group(1) : encoderStreams;
            }
        };
        return "gate." + stream + ".L" + m.group(2);
    }

    /** The layer scopes among {@code nodes} with their op counts, e.g. {@code enc_L2 (115)}. */
    private static String layers(List<NodeDef> nodes) {
        Map<String, Integer> count = new TreeMap<>(Comparator.comparing((String a) -> a.replaceAll("\\d+$", ""))
                .thenComparingInt(a -> Integer.parseInt(a.replaceAll("^.*?(\\d+)$", "$1"))));
        for (NodeDef n : nodes) {
            Matcher m = LAYER.matcher(n.getName());
            if (m.find()) {
                count.merge(m.group(1), 1, Integer::sum);
            }
        }
        if (count.isEmpty()) {
            return "none";
        }
        List<String> parts = new ArrayList<>();
        count.forEach((k, v) -> parts.add(k + " (" + v + ")"));
        return String.join(", ", parts);
    }
}
