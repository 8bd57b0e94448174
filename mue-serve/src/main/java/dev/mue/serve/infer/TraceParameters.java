package dev.mue.serve.infer;

import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.ExitTrace;
import dev.mue.api.policy.PolicyChoice;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The exit traces of a response as OIP parameters. The protocol's parameter values are strings,
 * numbers and booleans, so the trace is flattened into keys per element {@code i} of the request:
 * {@code exit.i.image_layer} and {@code exit.i.text_layer} (or {@code exit.i.joint_layer}),
 * {@code exit.i.decoder_layers} (the decoder's exit layer of every generated token, comma-separated;
 * one value for entailment's single scoring pass), {@code exit.i.decoder_layers_mean},
 * {@code exit.i.layer_reduction} (the paper's expected time reduction), {@code exit.i.flop_reduction}
 * (FLOP-weighted, layers only) and {@code exit.i.whole_pass_flop_reduction} (backbone and head
 * included); plus {@code policy} and {@code policy_source} for the whole request.
 */
public final class TraceParameters {
    private TraceParameters() {
    }

    /** The parameters of a request answered with {@code choice} and these traces (one per element). */
    public static Map<String, Object> of(PolicyChoice choice, List<ExitTrace> traces) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("policy", choice.policy().describe());
        p.put("policy_source", choice.describeSource());
        for (int i = 0; i < traces.size(); i++) {
            ExitTrace t = traces.get(i);
            String k = "exit." + i + ".";
            for (EncoderExit e : t.encoder()) {
                p.put(k + e.stream().name().toLowerCase(Locale.ROOT) + "_layer", e.exitLayer());
            }
            p.put(k + "decoder_layers", decoderLayers(t.decoder()));
            p.put(k + "decoder_layers_mean", round(t.decoderLayersUsed()));
            p.put(k + "layer_reduction", round(t.layerReduction()));
            p.put(k + "flop_reduction", round(t.flopReduction()));
            p.put(k + "whole_pass_flop_reduction", round(t.wholePassFlopReduction()));
        }
        return p;
    }

    /** The decoder exit layers as {@link #of} writes them. */
    public static String decoderLayers(List<DecoderStepTrace> steps) {
        return steps.stream().map(s -> Integer.toString(s.exitLayer())).collect(Collectors.joining(","));
    }

    private static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }
}
