package dev.mue.api.plan;

/**
 * One node of a {@link Plan}. The set is closed: the runtime and the compiling backends switch over
 * it exhaustively.
 *
 * <p>Control flow is explicit: every node but {@link ExitGate} has a single successor in
 * {@link Plan#edges()}; a gate is a conditional branch whose {@code then} target is the stream's
 * {@link Join} and whose {@code else} target is the next layer. A node with several incoming
 * edges from different streams ({@link EncoderLayer} 1 of the joint encoder, {@link EncoderOutput})
 * takes its inputs concatenated per example in edge order: [image ; text].
 *
 * <p>Every node has a cost at the plan's shapes ({@link #cost()}, for descriptions) and a formula
 * ({@link #work()}) that a trace evaluates at the extent a request really had.
 */
public sealed interface PlanNode {

    /** Index of the node in {@link Plan#nodes()}. */
    int id();

    /** Short unique label, e.g. {@code enc.image.L2} or {@code gate.decoder.L1}. */
    String label();

    /** Estimated cost at the plan's shapes. */
    Cost cost();

    /** The FLOPs of one execution as a function of its extent. */
    CostFormula work();

    /** Token or image embedding of a stream (for images: the ResNet backbone and {@code image_proj}). */
    record Embed(int id, Stream stream, Cost cost, CostFormula work) implements PlanNode {
        @Override
        public String label() {
            return "embed." + stream.label();
        }
    }

    /** Encoder layer {@code layer} (1-based) applied to a stream. */
    record EncoderLayer(int id, Stream stream, int layer, Cost cost, CostFormula work) implements PlanNode {
        @Override
        public String label() {
            return "enc." + stream.label() + ".L" + layer;
        }
    }

    /**
     * Decoder layer {@code layer} (1-based).
     *
     * @param propagate the cost of what {@link KvFill.Propagate} runs of this layer for one skipped
     *                  position (its LayerNorm and key/value projections)
     */
    record DecoderLayer(int id, int layer, Cost cost, CostFormula work, CostFormula propagate) implements PlanNode {
        @Override
        public String label() {
            return "dec.L" + layer;
        }
    }

    /**
     * The exit gate after layer {@code layer} of a stream: its criterion ({@link
     * dev.mue.api.exit.ExitCriterion} id) scores the layer's output; if the score is greater than the
     * threshold in force ({@link Plan#threshold}), control jumps to {@code thenNode} (the stream's
     * join), else it goes to {@code elseNode} (the next layer). Gates below the policy's minimum
     * layer are still nodes, with {@code enabled} false: they are measured and recorded, never taken.
     */
    record ExitGate(int id, Stream stream, int layer, int thenNode, int elseNode, boolean enabled, String criterion,
            Cost cost, CostFormula work) implements PlanNode {
        @Override
        public String label() {
            return "gate." + stream.label() + ".L" + layer;
        }

        /** The decision rule of design §4, the one place it is written: enabled and strictly above. */
        public boolean exits(double score, double threshold) {
            return enabled && score > threshold;
        }
    }

    /** Where a stream's exits and its last layer meet; its value is the last layer run. */
    record Join(int id, Stream stream, Cost cost, CostFormula work) implements PlanNode {
        @Override
        public String label() {
            return "join." + stream.label();
        }
    }

    /** Encoder output: [image ; text] through {@code encoder.layer_norm}. */
    record EncoderOutput(int id, Cost cost, CostFormula work) implements PlanNode {
        @Override
        public String label() {
            return "enc.output";
        }
    }

    /** Decoder final LayerNorm and the tied output projection to vocabulary logits. */
    record LmHead(int id, Cost cost, CostFormula work) implements PlanNode {
        @Override
        public String label() {
            return "lm_head";
        }
    }
}
