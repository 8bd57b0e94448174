package dev.mue.importer.ofa;

import java.util.Map;

/**
 * OFA's checkpoint key names: the Hugging Face port's renames, and which keys mue keeps.
 *
 * <p>The renames are per dotted segment, from OFA-Sys/OFA {@code feature/add_transformers}
 * {@code modeling_ofa.py}: {@code OFAEncoderLayer} names fairseq's {@code attn_ln}
 * {@code self_attn_mid_layer_norm} and {@code ffn_layernorm} {@code ffn_layer_norm};
 * {@code OFADecoderLayer} names {@code self_attn_ln} {@code self_attn_mid_layer_norm},
 * {@code encoder_attn} {@code cross_attn}, {@code encoder_attn_layer_norm}
 * {@code cross_attn_layer_norm} and {@code cross_attn_ln} {@code cross_attn_mid_layer_norm}. Every
 * other name ({@code embed_images}, {@code image_proj}, {@code pos_q_linear}, ...) is shared.
 */
public final class OfaKeys {
    /** Model-level prefixes a state dict may carry: HF's {@code base_model_prefix}, DDP's wrapper. */
    public static final java.util.List<String> PREFIXES = java.util.List.of("model.", "module.");

    private static final Map<String, String> HF_SHARED = Map.of(
            "ffn_layer_norm", "ffn_layernorm",
            "cross_attn", "encoder_attn",
            "cross_attn_layer_norm", "encoder_attn_layer_norm",
            "cross_attn_mid_layer_norm", "cross_attn_ln");

    private OfaKeys() {
    }

    /** What the importer does with a key (in fairseq naming). */
    public enum Kind {
        /** A parameter mue's layout holds. */
        WEIGHT,
        /** The decoder's token embedding or output projection: tied to {@code encoder.embed_tokens.weight}. */
        TIED,
        /** Used only to generate image codes, which mue does not do; reported and skipped. */
        IMAGE_CODE_ONLY,
        /** A buffer OFA recomputes (bucket tables, {@code version}, BatchNorm counters); skipped. */
        BUFFER
    }

    /** The fairseq name of {@code key}: the Hugging Face port's names mapped, others unchanged. */
    public static String toFairseq(String key) {
        String[] parts = key.split("\\.", -1);
        boolean decoder = parts.length > 0 && parts[0].equals("decoder");
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.equals("self_attn_mid_layer_norm")) {
                parts[i] = decoder ? "self_attn_ln" : "attn_ln";
            } else if (HF_SHARED.containsKey(p)) {
                parts[i] = HF_SHARED.get(p);
            }
        }
        return String.join(".", parts);
    }

    /** How the importer treats the fairseq-named {@code key}. */
    public static Kind classify(String key) {
        if (key.equals("decoder.embed_tokens.weight") || key.equals("decoder.output_projection.weight")) {
            return Kind.TIED;
        }
        if (key.equals("decoder.embed_image_positions.weight") || key.startsWith("decoder.image_pos_ln.")
                || key.startsWith("decoder.image_rel_pos_table_list.")
                || key.startsWith("decoder.code_layernorm_embedding.")) {
            return Kind.IMAGE_CODE_ONLY;
        }
        boolean stack = key.startsWith("encoder.") || key.startsWith("decoder.");
        if (stack && (key.endsWith(".token_rp_bucket") || key.endsWith(".image_rp_bucket")
                || key.equals("decoder.image_position_idx") || key.equals("encoder.version")
                || key.equals("decoder.version") || key.endsWith(".num_batches_tracked"))) {
            return Kind.BUFFER;
        }
        return Kind.WEIGHT;
    }
}
