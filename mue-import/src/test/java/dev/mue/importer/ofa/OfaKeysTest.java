package dev.mue.importer.ofa;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mue.importer.ofa.OfaKeys.Kind;
import org.junit.jupiter.api.Test;

class OfaKeysTest {
    @Test
    void mapsTheHuggingFaceNamesPerStack() {
        assertEquals("encoder.layers.3.attn_ln.weight", OfaKeys.toFairseq("encoder.layers.3.self_attn_mid_layer_norm.weight"));
        assertEquals("decoder.layers.3.self_attn_ln.bias", OfaKeys.toFairseq("decoder.layers.3.self_attn_mid_layer_norm.bias"));
        assertEquals("decoder.layers.0.encoder_attn.q_proj.weight", OfaKeys.toFairseq("decoder.layers.0.cross_attn.q_proj.weight"));
        assertEquals("decoder.layers.0.encoder_attn.c_attn", OfaKeys.toFairseq("decoder.layers.0.cross_attn.c_attn"));
        assertEquals("decoder.layers.0.encoder_attn_layer_norm.weight",
                OfaKeys.toFairseq("decoder.layers.0.cross_attn_layer_norm.weight"));
        assertEquals("decoder.layers.0.cross_attn_ln.weight", OfaKeys.toFairseq("decoder.layers.0.cross_attn_mid_layer_norm.weight"));
        assertEquals("encoder.layers.0.ffn_layernorm.bias", OfaKeys.toFairseq("encoder.layers.0.ffn_layer_norm.bias"));
        // fairseq names pass through, including the one that looks like an HF name's prefix
        for (String k : new String[] {"decoder.layers.0.cross_attn_ln.weight", "encoder.embed_images.layer1.0.conv1.weight",
                "encoder.layers.0.attn_ln.weight", "decoder.layers.1.encoder_attn.k_proj.bias"}) {
            assertEquals(k, OfaKeys.toFairseq(k));
        }
    }

    @Test
    void classifiesWhatMueKeepsAndWhatItSkips() {
        assertEquals(Kind.TIED, OfaKeys.classify("decoder.output_projection.weight"));
        assertEquals(Kind.TIED, OfaKeys.classify("decoder.embed_tokens.weight"));
        assertEquals(Kind.IMAGE_CODE_ONLY, OfaKeys.classify("decoder.embed_image_positions.weight"));
        assertEquals(Kind.IMAGE_CODE_ONLY, OfaKeys.classify("decoder.image_rel_pos_table_list.11.weight"));
        assertEquals(Kind.IMAGE_CODE_ONLY, OfaKeys.classify("decoder.code_layernorm_embedding.bias"));
        assertEquals(Kind.IMAGE_CODE_ONLY, OfaKeys.classify("decoder.image_pos_ln.weight"));
        assertEquals(Kind.BUFFER, OfaKeys.classify("encoder.token_rp_bucket"));
        assertEquals(Kind.BUFFER, OfaKeys.classify("decoder.image_rp_bucket"));
        assertEquals(Kind.BUFFER, OfaKeys.classify("decoder.image_position_idx"));
        assertEquals(Kind.BUFFER, OfaKeys.classify("encoder.version"));
        assertEquals(Kind.BUFFER, OfaKeys.classify("encoder.embed_images.layer2.0.downsample.1.num_batches_tracked"));
        // the encoder's image tables are weights mue keeps (its joint encoder uses them)
        assertEquals(Kind.WEIGHT, OfaKeys.classify("encoder.embed_image_positions.weight"));
        assertEquals(Kind.WEIGHT, OfaKeys.classify("encoder.image_rel_pos_table_list.0.weight"));
        assertEquals(Kind.WEIGHT, OfaKeys.classify("encoder.image_pos_ln.weight"));
        assertEquals(Kind.WEIGHT, OfaKeys.classify("classification_heads.x.weight"));
    }
}
