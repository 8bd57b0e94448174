package dev.mue.api.plan;

/**
 * One node of a {@link Plan}. The set is closed: backends switch over it exhaustively.
 *
 * <p>Control flow is explicit: every node but {@link ExitGate} has a single successor in
 * {@link Plan#edges()}; a gate is a conditional branch whose {@code then} target is the stream's
 * {@link Join} and whose {@code else} target is the next layer.
 */
public sealed interface PlanNode {

    /** Index of the node in {@link Plan#nodes()}. */
    int id();

    /** Short unique label, e.g. {@code enc.image.L2} or {@code gate.decoder.L1}. */
    String label();

    /** Estimated cost at the plan's shapes. */
    Cost cost();

    /** Token or image embedding of a stream (for images: the ResNet backbone and {@code image_proj}). */
    record Embed(int id, Stream stream, Cost cost) implements PlanNode {
        @Override
        public String label() {
            return "embed." + stream.label();
        }
    }

    /** Encoder layer {@code layer} (1-based) applied to a stream. */
    record EncoderLayer(int id, Stream stream, int layer, Cost cost) implements PlanNode {
        @Override
        public String label() {
            return "enc." + stream.label() + ".L" + layer;
        }
    }

    /** Decoder layer {@code layer} (1-based). */
    record DecoderLayer(int id, int layer, Cost cost) implements PlanNode {
        @Override
        public String label() {
            return "dec.L" + layer;
        }
    }

    /**
     * The exit gate after layer {@code layer} of a stream: if the cosine similarity between the
     * layer's output and input is greater than the stream's threshold at this step, control
     * jumps to {@code thenNode} (the stream's join), else it goes to {@code elseNode} (the next
     * layer). Gates below the policy's minimum layer are still nodes, with {@code enabled} false.
     */
    record ExitGate(int id, Stream stream, int layer, int thenNode, int elseNode, boolean enabled, Cost cost)
            implements PlanNode {
        @Override
        public String label() {
            return "gate." + stream.label() + ".L" + layer;
        }
    }

    /** Where a stream's exits and its last layer meet; its value is the last layer run. */
    record Join(int id, Stream stream, Cost cost) implements PlanNode {
        @Override
        public String label() {
            return "join." + stream.label();
        }
    }

    /** Encoder output: [image ; text] through {@code encoder.layer_norm}. */
    record EncoderOutput(int id, Cost cost) implements PlanNode {
        @Override
        public String label() {
            return "enc.output";
        }
    }

    /** Decoder final LayerNorm and the tied output projection to vocabulary logits. */
    record LmHead(int id, Cost cost) implements PlanNode {
        @Override
        public String label() {
            return "lm_head";
        }
    }
}
