package dev.mue.runtime;

import dev.mue.api.plan.Plan;
import dev.mue.api.plan.PlanNode;
import dev.mue.api.plan.Stream;
import dev.mue.api.spi.CostModel;

/**
 * Representative work of a plan, for choosing a backend before any request is seen: node
 * executions and FLOPs from the plan's node formulas at typical extents (a short prompt, a caption
 * of the decoding horizon attending half of it on average), with no exit.
 */
public final class Workloads {
    /** Text tokens of a typical prompt (OFA's captioning prompt is 9 with bos and eos). */
    private static final int PROMPT_TOKENS = 12;

    private Workloads() {
    }

    /**
     * A caption of {@code batch} images: one encoder pass, then {@code maxLength} decoding steps of
     * {@code beam} rows per image.
     */
    public static CostModel.Workload caption(Plan plan, int batch, int beam, int maxLength) {
        int image = plan.config().imageTokens();
        int text = Math.min(PROMPT_TOKENS, plan.shapes().maxTextTokens());
        long encoder = 0;
        for (PlanNode n : plan.encoderStage()) {
            encoder += switch (n) {
                case PlanNode.Embed e -> e.stream() == Stream.IMAGE ? e.work().flops(1, image, 0, 0)
                        : e.work().flops(0, text, 0, 0);
                case PlanNode.EncoderLayer l -> {
                    long t = l.stream() == Stream.IMAGE ? image : l.stream() == Stream.TEXT ? text : image + text;
                    yield l.work().flops(0, t, t * t, 0);
                }
                case PlanNode.ExitGate g -> g.work().flops(0, g.stream() == Stream.IMAGE ? image
                        : g.stream() == Stream.TEXT ? text : image + text, 0, 0);
                case PlanNode.EncoderOutput o -> o.work().flops(0, image + text, 0, 0);
                default -> 0;
            };
        }
        long step = 0;
        long keys = Math.max(1, maxLength / 2);
        for (PlanNode n : plan.decoderStage()) {
            step += n.work().flops(0, 1, keys, image + text);
        }
        long flops = batch * (encoder + (long) beam * maxLength * step);
        long nodes = plan.encoderStage().size() + (long) maxLength * plan.decoderStage().size();
        return new CostModel.Workload(String.format(java.util.Locale.ROOT, "%d caption%s of %s (beam %d, %d tokens)",
                batch, batch == 1 ? "" : "s", plan.config().name(), beam, maxLength), nodes, flops);
    }
}
