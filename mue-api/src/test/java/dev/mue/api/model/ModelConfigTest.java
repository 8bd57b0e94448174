package dev.mue.api.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {

    @Test
    void presetsMatchOfaArchitectures() {
        ModelConfig tiny = ModelConfig.preset("ofa-tiny");
        assertEquals(256, tiny.dModel());
        assertEquals(4, tiny.encoderLayers());
        assertEquals(4, tiny.decoderLayers());
        assertEquals(4, tiny.heads());
        assertEquals(1024, tiny.ffnDim());
        assertArrayEquals(new int[] {3, 4, 6}, tiny.resnet().blocks());
        ModelConfig base = ModelConfig.preset("base");
        assertEquals(768, base.dModel());
        assertEquals(6, base.encoderLayers());
        assertEquals(12, base.heads());
        assertEquals(3072, base.ffnDim());
        assertArrayEquals(new int[] {3, 4, 23}, base.resnet().blocks());
        assertEquals(1024, base.resnet().outputChannels());
        assertEquals(900, base.imageTokens(), "480 px at output stride 16 gives 30x30 tokens");
        ModelConfig huge = ModelConfig.preset("ofa-huge");
        assertEquals(1280, huge.dModel());
        assertEquals(24, huge.encoderLayers());
        assertEquals(12, huge.decoderLayers());
        assertArrayEquals(new int[] {3, 8, 36}, huge.resnet().blocks());
        assertEquals(ModelConfig.OFA_VOCAB_SIZE, ModelConfig.preset("ofa-large").vocabSize());
        assertEquals(Math.pow(2.0 * 64, -0.5), base.queryScale(), 1e-15);
    }

    @Test
    void unknownPresetNamesTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.preset("ofa-giant"));
        assertTrue(e.getMessage().contains("ofa-base") && e.getMessage().contains("mue-demo"), e.getMessage());
    }

    @Test
    void gridSizeFollowsTheStrideTwoChain() {
        assertEquals(30, ResNetConfig.gridSize(480));
        assertEquals(4, ResNetConfig.gridSize(64));
        assertEquals(1, ResNetConfig.gridSize(16));
        assertEquals(2, ResNetConfig.gridSize(17), "every stride-2 step rounds up");
    }

    @Test
    void inconsistentConfigsAreRejected() {
        ResNetConfig r = new ResNetConfig(8, 8, new int[] {1, 1, 1});
        assertThrows(IllegalArgumentException.class,
                () -> new ModelConfig("x", 30, 1, 1, 4, 8, 100, 16, 8, 4, 32, r, 2, 1e-5), "d not divisible by heads");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ModelConfig("x", 32, 1, 1, 4, 8, 100, 16, 8, 2, 64, r, 2, 1e-5));
        assertTrue(e.getMessage().contains("image_bucket_size"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ResNetConfig(8, 8, new int[] {1, 1}));
    }

    @Test
    void configJsonRoundTrips(@TempDir Path dir) throws Exception {
        ModelConfig c = new ModelConfig("custom", 36, 3, 2, 3, 20, 50, 24, 8, 4, 48,
                new ResNetConfig(4, 4, new int[] {1, 2, 1}), 2.0, 1e-5);
        Path f = dir.resolve("config.json");
        ConfigJson.write(c, f);
        assertEquals(c, ConfigJson.read(f));
    }

    @Test
    void badConfigJsonIsRejectedNamingFileAndKey(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{not json");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ConfigJson.read(f));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("invalid JSON"), e.getMessage());
        String good = ConfigJson.toJson(ModelConfig.preset("mue-demo"));
        Files.writeString(f, good.replace("\"heads\"", "\"head_count\""));
        e = assertThrows(ModelFormatException.class, () -> ConfigJson.read(f));
        assertTrue(e.getMessage().contains("head_count"), e.getMessage());
        Files.writeString(f, good.replace("\"heads\" : 4", "\"heads\" : 5"));
        e = assertThrows(ModelFormatException.class, () -> ConfigJson.read(f));
        assertTrue(e.getMessage().contains("not a multiple of heads"), e.getMessage());
        Files.writeString(f, good.replace("\"d_model\" : 128", "\"d_model\" : \"128\""));
        e = assertThrows(ModelFormatException.class, () -> ConfigJson.read(f));
        assertTrue(e.getMessage().contains("d_model"), e.getMessage());
    }

    @Test
    void conventionsRoundTripAndDefaultToMuesOwn(@TempDir Path dir) throws Exception {
        ModelConfig c = ModelConfig.preset("mue-demo");
        assertEquals(ModelConfig.Conventions.MUE, c.conventions());
        assertEquals(c.maxPositions(), c.tokenBucketPositions(), "mue's bundles scale buckets over max_positions");
        ModelConfig ofa = c.withConventions(ModelConfig.Conventions.OFA);
        String json = ConfigJson.toJson(ofa);
        assertTrue(json.contains("\"image_resize\" : \"pil-bicubic\""), json);
        assertTrue(json.contains("\"text_normalization\" : \"ofa\""), json);
        assertEquals(ofa, ConfigJson.parse(json, "ofa.json"));
        assertEquals(1024, ConfigJson.parse(json, "ofa.json").tokenBucketPositions());
        assertEquals(c, ConfigJson.parse(ConfigJson.toJson(c), "mue.json"));
        // A config.json written before conventions existed reads as mue's own.
        String old = json.replaceAll("(?s),\\s*\"conventions\" : \\{[^}]*}", "");
        assertTrue(!old.contains("conventions"), old);
        assertEquals(ModelConfig.Conventions.MUE, ConfigJson.parse(old, "old.json").conventions());
        Path f = dir.resolve("config.json");
        for (String[] bad : new String[][] {
            {"\"image_resize\" : \"pil-bicubic\"", "\"image_resize\" : \"lanczos\"",
                "'conventions.image_resize' must be one of [float-bicubic, pil-bicubic], got \"lanczos\""},
            {"\"max_words\" : 128", "\"max_words\" : 128, \"spaces\" : 1", "unknown key 'conventions.spaces'"},
            {"\"ban_bos_in_generation\" : false", "\"ban_bos_in_generation\" : \"no\"",
                "'conventions.ban_bos_in_generation' must be true or false"},
            {"\"max_words\" : 128", "\"max_words\" : -1", "max_words must be 0 (none) or positive"}}) {
            assertTrue(json.contains(bad[0]), bad[0]);
            Files.writeString(f, json.replace(bad[0], bad[1]));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> ConfigJson.read(f));
            assertTrue(e.getMessage().contains(bad[2]) && e.getMessage().contains(f.toString()), e.getMessage());
        }
    }

    @Test
    void weightLayoutHasEveryOfaTensorWithShape() {
        ModelConfig c = ModelConfig.preset("mue-demo");
        Map<String, int[]> m = WeightLayout.expected(c);
        assertArrayEquals(new int[] {c.vocabSize(), 128}, m.get("encoder.embed_tokens.weight"));
        assertArrayEquals(new int[] {512, 128}, m.get("encoder.layers.3.fc1.weight"));
        assertArrayEquals(new int[] {4}, m.get("decoder.layers.0.encoder_attn.c_attn"));
        assertArrayEquals(new int[] {31, 4}, m.get("decoder.token_rel_pos_table_list.3.weight"));
        assertArrayEquals(new int[] {15 * 15 + 3, 4}, m.get("encoder.image_rel_pos_table_list.0.weight"));
        assertArrayEquals(new int[] {64, 16, 1, 1}, m.get("encoder.embed_images.layer1.0.downsample.0.weight"));
        assertArrayEquals(new int[] {32, 32, 3, 3}, m.get("encoder.embed_images.layer2.0.conv2.weight"));
        assertTrue(!m.containsKey("encoder.embed_images.layer2.1.conv1.weight"), "one block per stage");
        assertTrue(!m.containsKey("decoder.output_projection.weight"), "output projection is tied");
    }

    @Test
    void randomWeightsAreSeeded() {
        ModelConfig c = ModelConfig.preset("mue-demo").withVocabSize(64);
        Weights a = RandomWeights.generate(c, 7);
        Weights b = RandomWeights.generate(c, 7);
        Weights other = RandomWeights.generate(c, 8);
        for (String n : a.names()) {
            assertArrayEquals(a.data(n), b.data(n), n);
        }
        assertTrue(!java.util.Arrays.equals(a.data("encoder.layers.0.fc1.weight"), other.data("encoder.layers.0.fc1.weight")));
        for (float v : a.data("encoder.embed_images.bn1.running_var")) {
            assertTrue(v > 0);
        }
    }
}
