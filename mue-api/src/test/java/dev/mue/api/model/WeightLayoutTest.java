package dev.mue.api.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.WeightMismatchException;
import dev.mue.api.plan.BiasBlock;
import dev.mue.api.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link WeightLayout#resolve}: every typed field is the tensor of its fairseq key, BatchNorm is
 * folded as {@code gamma / sqrt(var + eps)} and {@code beta - mean * scale}, and the recording
 * walk ({@link WeightLayout#expected}) keeps its order, on which seeded random weights depend.
 */
class WeightLayoutTest {
    private static final ModelConfig C = ModelConfig.preset("mue-demo");
    private static final Weights W = RandomWeights.generate(C, 7);

    @Test
    void everyFieldIsTheTensorOfItsKey() {
        ResolvedWeights r = WeightLayout.resolve(C, W);
        assertSame(W.data("encoder.embed_tokens.weight"), r.embedTokens());
        assertSame(W.data("encoder.layers.2.self_attn.k_proj.weight"), r.encoder().get(2).self().k().w());
        assertSame(W.data("encoder.layers.2.attn_ln.bias"), r.encoder().get(2).selfPostLn().b());
        assertSame(W.data("encoder.layers.0.final_layer_norm.weight"), r.encoder().get(0).ffnInLn().w());
        assertSame(W.data("encoder.layers.0.ffn_layernorm.weight"), r.encoder().get(0).ffnMidLn().w());
        assertSame(W.data("decoder.layers.1.self_attn_ln.weight"), r.decoder().get(1).selfPostLn().w());
        assertSame(W.data("decoder.layers.1.encoder_attn.v_proj.bias"), r.decoder().get(1).cross().v().b());
        assertSame(W.data("decoder.layers.1.encoder_attn.c_attn"), r.decoder().get(1).cross().cAttn());
        assertSame(W.data("decoder.layers.1.cross_attn_ln.weight"), r.decoder().get(1).crossPostLn().w());
        assertSame(W.data("decoder.layers.0.fc2.weight"), r.decoder().get(0).fc2().w());
        assertSame(W.data("encoder.token_rel_pos_table_list.1.weight"), r.positions().encoderTokenRel().get(1));
        assertSame(W.data("decoder.cross_pos_k_linear.weight"), r.positions().decoderCrossPosK().w());
        assertNull(r.encoder().get(0).cross(), "encoder layers have no cross-attention");
        assertEquals(C.encoderLayers(), r.encoder().size());
        assertEquals(C.decoderLayers(), r.decoder().size());
        ResolvedWeights.Linear fc1 = r.encoder().get(0).fc1();
        assertEquals(C.dModel(), fc1.in());
        assertEquals(C.ffnDim(), fc1.out());
        float[] type = W.data("encoder.type_embedding.weight");
        assertEquals(type[C.dModel()], r.imageType()[0]);
        assertEquals(type[0], r.textType()[0]);
    }

    @Test
    void batchNormIsFoldedOnce() {
        ResolvedWeights r = WeightLayout.resolve(C, W);
        String bn = "encoder.embed_images.layer2.0.bn2";
        ResolvedWeights.ConvBn conv = r.stages().get(1).get(0).c2();
        assertSame(W.data("encoder.embed_images.layer2.0.conv2.weight"), conv.w());
        assertEquals(2, conv.stride(), "the stride sits on the 3x3 conv of a stage's first block");
        assertEquals(1, conv.pad());
        float[] g = W.data(bn + ".weight");
        float[] b = W.data(bn + ".bias");
        float[] mean = W.data(bn + ".running_mean");
        float[] var = W.data(bn + ".running_var");
        for (int i = 0; i < conv.out(); i++) {
            double s = g[i] / Math.sqrt(var[i] + C.layerNormEps());
            assertEquals((float) s, conv.scale()[i], 0f, "scale " + i);
            assertEquals((float) (b[i] - mean[i] * s), conv.shift()[i], 0f, "shift " + i);
        }
        float[] scaled = conv.scaledWeight();
        int per = conv.in() * conv.kernel() * conv.kernel();
        assertEquals(conv.w()[3 * per + 5] * conv.scale()[3], scaled[3 * per + 5], 0f);
        assertTrue(scaled != conv.w(), "a new array; the loaded weights stay as they are");
        assertTrue(r.stages().get(0).get(0).down() != null, "the first block projects its shortcut");
    }

    @Test
    void aMissingTensorIsNamed() {
        List<FloatTensor> some = new ArrayList<>(W.all());
        some.removeIf(t -> t.name().equals("decoder.layers.1.encoder_attn.q_proj.bias"));
        WeightMismatchException e = assertThrows(WeightMismatchException.class,
                () -> WeightLayout.resolve(C, new Weights(some)));
        assertTrue(e.getMessage().contains("decoder.layers.1.encoder_attn.q_proj.bias"), e.getMessage());
    }

    @Test
    void theExpectedOrderIsTheLayoutOrder() {
        List<String> keys = new ArrayList<>(WeightLayout.expected(C).keySet());
        assertEquals(List.of("encoder.embed_tokens.weight", "encoder.type_embedding.weight",
                "encoder.layernorm_embedding.weight", "encoder.layernorm_embedding.bias",
                "encoder.patch_layernorm_embedding.weight", "encoder.patch_layernorm_embedding.bias",
                "encoder.image_proj.weight", "encoder.image_proj.bias", "encoder.embed_positions.weight",
                "encoder.embed_image_positions.weight"), keys.subList(0, 10));
        assertEquals("encoder.embed_images.conv1.weight", keys.get(keys.indexOf("encoder.layer_norm.bias") + 1));
        int l0 = keys.indexOf("encoder.layers.0.self_attn.q_proj.weight");
        assertEquals(List.of("encoder.layers.0.self_attn.q_proj.weight", "encoder.layers.0.self_attn.q_proj.bias",
                "encoder.layers.0.self_attn.k_proj.weight"), keys.subList(l0, l0 + 3));
        int ffn = keys.indexOf("encoder.layers.0.fc1.weight");
        assertEquals(List.of("encoder.layers.0.fc1.weight", "encoder.layers.0.fc1.bias", "encoder.layers.0.fc2.weight",
                "encoder.layers.0.fc2.bias", "encoder.layers.0.ffn_layernorm.weight",
                "encoder.layers.0.ffn_layernorm.bias", "encoder.layers.0.final_layer_norm.weight",
                "encoder.layers.0.final_layer_norm.bias", "encoder.token_rel_pos_table_list.0.weight",
                "encoder.image_rel_pos_table_list.0.weight"), keys.subList(ffn, ffn + 10));
        assertEquals("decoder.token_rel_pos_table_list." + (C.decoderLayers() - 1) + ".weight", keys.getLast());
        Map<String, int[]> m = WeightLayout.expected(C);
        assertEquals(W.names().size(), m.size(), "the random weights are drawn from the same walk");
        assertArrayEquals(new int[] {C.dModel(), C.resnet().outputChannels()}, m.get("encoder.image_proj.weight"));
    }

    @Test
    void denseLayersAddTheRelativeTablePerLayerAndShareTheAbsoluteOtherwise() {
        float[] abs = {1, 2, 3, 4};
        float[][] tables = {{10, 20}, {30, 40}};
        BiasBlock rel = new BiasBlock("t", 1, 2, 2, abs, new int[] {0, 1, -1, 0}, tables);
        float[][] d = rel.denseLayers(2);
        assertArrayEquals(new float[] {11, 22, 3, 14}, d[0]);
        assertArrayEquals(new float[] {31, 42, 3, 34}, d[1]);
        for (int l = 0; l < 2; l++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    assertEquals(rel.at(l, 0, i, j), d[l][i * 2 + j], 0f);
                }
            }
        }
        float[][] plain = new BiasBlock("a", 1, 2, 2, abs, null, null).denseLayers(3);
        assertSame(abs, plain[0]);
        assertSame(abs, plain[2]);
    }
}
