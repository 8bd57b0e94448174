package dev.mue.runtime;

import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.ExitTrace;
import dev.mue.api.plan.CostFormula;
import dev.mue.api.plan.KvFill;
import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanNode;
import dev.mue.api.plan.Stream;
import java.util.List;

/**
 * Builds the {@link ExitTrace} of a result with its FLOP figures summed from the plan's node costs
 * ({@link PlanNode#work()}) at the extent the request really had: the layers and gates run, the
 * keys and values a skipped layer propagates, and the work no exit skips (embeddings, backbone,
 * encoder output, LM head), against the same request with every layer run and no gate (design
 * §4, §10.6).
 */
public final class Traces {
    private Traces() {
    }

    /**
     * The trace of a generated text: the example's encoder exits and, per generated token, the
     * decoder's exit at that step of the chosen hypothesis (step {@code t} attends {@code t + 1}
     * positions and {@code memoryTokens} encoder positions).
     */
    public static ExitTrace generation(Plan plan, List<EncoderExit> encoder, List<DecoderStepTrace> steps,
            int memoryTokens) {
        Sum sum = encoder(plan, encoder);
        PlanNode embed = node(plan.decoderStage(), PlanNode.Embed.class);
        PlanNode head = node(plan.decoderStage(), PlanNode.LmHead.class);
        for (DecoderStepTrace s : steps) {
            long keys = s.step() + 1L;
            decoder(plan, sum, s.exitLayer(), s.gates().size(), 1, keys, memoryTokens);
            sum.fixed += embed.work().flops(0, 1, 0, 0) + head.work().flops(0, 1, 0, 0);
        }
        return sum.trace(plan, encoder, steps);
    }

    /**
     * The trace of a visual-entailment scoring pass: the example's encoder exits and the one decoder
     * pass over its rows ({@code lengths} tokens each, logits from {@code firstScored} on).
     */
    public static ExitTrace scoring(Plan plan, List<EncoderExit> encoder, DecoderStepTrace pass, int memoryTokens,
            int[] lengths, int[] firstScored) {
        Sum sum = encoder(plan, encoder);
        long tokens = 0;
        long keys = 0;
        long scored = 0;
        for (int r = 0; r < lengths.length; r++) {
            tokens += lengths[r];
            keys += (long) lengths[r] * (lengths[r] + 1) / 2;
            scored += lengths[r] - firstScored[r];
        }
        decoder(plan, sum, pass.exitLayer(), pass.gates().size(), tokens, keys, tokens * memoryTokens);
        sum.fixed += node(plan.decoderStage(), PlanNode.Embed.class).work().flops(0, tokens, 0, 0)
                + node(plan.decoderStage(), PlanNode.LmHead.class).work().flops(0, scored, 0, 0);
        return sum.trace(plan, encoder, List.of(pass));
    }

    /** FLOPs run, with every layer, and fixed. */
    private static final class Sum {
        long run;
        long full;
        long fixed;

        ExitTrace trace(Plan plan, List<EncoderExit> encoder, List<DecoderStepTrace> steps) {
            return new ExitTrace(encoder, steps, plan.config().encoderLayers(), plan.config().decoderLayers(), run, full,
                    fixed);
        }
    }

    private static Sum encoder(Plan plan, List<EncoderExit> encoder) {
        Sum sum = new Sum();
        int imageTokens = 0;
        int textTokens = 0;
        for (EncoderExit e : encoder) {
            long t = e.tokens();
            List<PlanNode> layers = plan.layers(e.stream());
            List<PlanNode.ExitGate> gates = plan.gates(e.stream());
            for (int l = 0; l < layers.size(); l++) {
                long f = layers.get(l).work().flops(0, t, t * t, 0);
                sum.full += f;
                if (l < e.exitLayer()) {
                    sum.run += f;
                }
            }
            for (int g = 0; g < e.gates().size(); g++) {
                sum.run += gates.get(g).work().flops(0, t, 0, 0);
            }
            switch (e.stream()) {
                case IMAGE -> imageTokens += e.tokens();
                case TEXT -> textTokens += e.tokens();
                case JOINT -> {
                    imageTokens += plan.config().imageTokens();
                    textTokens += e.tokens() - plan.config().imageTokens();
                }
                case DECODER -> throw new IllegalArgumentException("a decoder exit among the encoder's");
            }
        }
        for (PlanNode n : plan.encoderStage()) {
            if (n instanceof PlanNode.Embed em) {
                sum.fixed += em.stream() == Stream.IMAGE ? em.work().flops(1, imageTokens, 0, 0)
                        : em.work().flops(0, textTokens, 0, 0);
            } else if (n instanceof PlanNode.EncoderOutput o) {
                sum.fixed += o.work().flops(0, imageTokens + textTokens, 0, 0);
            }
        }
        return sum;
    }

    /** Adds one decoder pass over {@code tokens} positions that exited after {@code exitLayer}. */
    private static void decoder(Plan plan, Sum sum, int exitLayer, int gatesRun, long tokens, long keys,
            long memoryKeys) {
        List<PlanNode> layers = plan.layers(Stream.DECODER);
        List<PlanNode.ExitGate> gates = plan.gates(Stream.DECODER);
        for (int l = 0; l < layers.size(); l++) {
            long f = layers.get(l).work().flops(0, tokens, keys, memoryKeys);
            sum.full += f;
            if (l < exitLayer) {
                sum.run += f;
            }
        }
        for (int g = 0; g < gatesRun; g++) {
            sum.run += gates.get(g).work().flops(0, tokens, 0, 0);
        }
        for (KvFill fill : plan.kvFillAfterExit(exitLayer)) {
            if (fill instanceof KvFill.Propagate p) {
                CostFormula f = ((PlanNode.DecoderLayer) layers.get(p.layer() - 1)).propagate();
                sum.run += f.flops(0, tokens, 0, 0);
            }
        }
    }

    private static PlanNode node(List<PlanNode> stage, Class<? extends PlanNode> kind) {
        return stage.stream().filter(kind::isInstance).findFirst()
                .orElseThrow(() -> new IllegalStateException("plan stage has no " + kind.getSimpleName()));
    }
}
