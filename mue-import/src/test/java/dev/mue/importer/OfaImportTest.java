package dev.mue.importer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mue.api.EntailmentResult;
import dev.mue.api.GenerationResult;
import dev.mue.api.ModelFormatException;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.api.WeightMismatchException;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.Weights;
import dev.mue.api.safetensors.SafetensorsFile;
import dev.mue.api.tensor.FloatTensor;
import dev.mue.api.text.Vocabulary;
import dev.mue.importer.ofa.OfaDictionary;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Imports the script-written OFA checkpoints and checks them against the reference weights. */
class OfaImportTest {
    private static final List<String> IMAGE_CODE_ONLY = List.of("decoder.embed_image_positions.weight",
            "decoder.image_pos_ln.weight", "decoder.image_pos_ln.bias", "decoder.code_layernorm_embedding.weight",
            "decoder.code_layernorm_embedding.bias", "decoder.image_rel_pos_table_list.0.weight",
            "decoder.image_rel_pos_table_list.1.weight");

    @TempDir
    Path tmp;

    private static JsonNode manifest() throws IOException {
        return new ObjectMapper().readTree(CheckpointsFixture.file("manifest.json").toFile());
    }

    private static Map<String, FloatTensor> reference() {
        try (SafetensorsFile st = SafetensorsFile.open(CheckpointsFixture.file("reference.safetensors"))) {
            return st.names().stream().collect(Collectors.toMap(n -> n, st::readFloat));
        }
    }

    private ImportReport importFile(String name, ImportOptions options) {
        return OfaImport.importCheckpoint(CheckpointsFixture.file(name), CheckpointsFixture.file("dict.txt"),
                tmp.resolve(name + "-bundle"), options);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "fairseq_zip_f32_cfg.pt, zip, fairseq, fairseq, '', F32, cfg.task.patch_image_size",
            "fairseq_zip_f16_cfg.pt, zip, fairseq, fairseq, '', F16, cfg.task.patch_image_size",
            "fairseq_legacy_f32_args.pt, legacy, fairseq, fairseq, '', F32, args.patch_image_size",
            "fairseq_legacy_f16_args.pt, legacy, fairseq, fairseq, '', F16, args.patch_image_size",
            "hf_pytorch_model.bin, zip, state dict, Hugging Face, '', F32, flag --image-size",
            "hf_prefixed_pytorch_model.bin, zip, state dict, Hugging Face, model., F32, flag --image-size",
            "hf_dedup_pytorch_model.bin, zip, state dict, Hugging Face, '', F32, flag --image-size"})
    void importsEveryFormatToExactlyTheReferenceWeights(String file, String format, String kind, String naming,
            String prefix, String storedAs, String imageSizeSource) throws IOException {
        JsonNode m = manifest();
        ImportOptions options = file.startsWith("hf") ? ImportOptions.defaults().withImageSize(m.get("image_size").asInt())
                : ImportOptions.defaults();
        ImportReport r = importFile(file, options);
        assertEquals(format, r.format());
        assertEquals(kind, r.kind());
        assertEquals(naming, r.naming());
        assertEquals(prefix, r.strippedPrefix());
        assertEquals(Map.of(storedAs, m.get("reference_tensors").asInt()), r.storedTypes());
        assertEquals(IMAGE_CODE_ONLY, r.imageCodeOnly().stream().sorted(this::byList).toList());
        // 2 bucket tables x 2 stacks, image_position_idx, 2 versions, one counter per BatchNorm
        assertTrue(r.buffers().contains("decoder.image_position_idx"), r.buffers().toString());
        assertTrue(r.buffers().contains("encoder.embed_images.bn1.num_batches_tracked"), r.buffers().toString());
        assertEquals(7 + countBatchNorms(m), r.buffers().size(), r.buffers().toString());
        assertEquals(file.contains("dedup")
                ? List.of("decoder.embed_tokens.weight (the only copy; stored as encoder.embed_tokens.weight)")
                : List.of("decoder.embed_tokens.weight", "decoder.output_projection.weight"), r.tied());
        assertEquals(imageSizeSource, fact(r, "image_size").source());
        assertTrue(fact(r, "heads").source().startsWith("tensors (encoder.layers.0.self_attn.c_attn"), fact(r, "heads").source());

        ModelConfig c = r.config();
        assertEquals(m.get("d_model").asInt(), c.dModel());
        assertEquals(m.get("heads").asInt(), c.heads());
        assertEquals(m.get("encoder_layers").asInt(), c.encoderLayers());
        assertEquals(m.get("decoder_layers").asInt(), c.decoderLayers());
        assertEquals(m.get("ffn_dim").asInt(), c.ffnDim());
        assertEquals(ModelConfig.OFA_VOCAB_SIZE, c.vocabSize());
        assertEquals(m.get("max_positions").asInt(), c.maxPositions());
        assertEquals(m.get("token_bucket_size").asInt(), c.tokenBucketSize());
        assertEquals(m.get("image_bucket_size").asInt(), c.imageBucketSize());
        assertEquals(m.get("image_size").asInt(), c.imageSize());
        assertEquals(m.get("stem_channels").asInt(), c.resnet().stemChannels());
        assertEquals(m.get("base_width").asInt(), c.resnet().baseWidth());
        assertArrayEquals(new int[] {2, 1, 1}, c.resnet().blocks());
        assertEquals(ModelConfig.Conventions.OFA, c.conventions());

        Model bundle = ModelBundle.load(r.outDir());
        assertEquals(c, bundle.config());
        assertEquals(ModelConfig.OFA_VOCAB_SIZE, bundle.vocabulary().size());
        Map<String, FloatTensor> ref = reference();
        assertEquals(ref.keySet(), bundle.weights().names());
        for (FloatTensor t : bundle.weights().all()) {
            FloatTensor want = ref.get(t.name());
            assertArrayEquals(want.shape(), t.shape(), t.name());
            assertArrayEquals(want.data(), t.data(), t.name()); // exact: F16 widens losslessly
        }
    }

    private int byList(String a, String b) {
        return Integer.compare(IMAGE_CODE_ONLY.indexOf(a), IMAGE_CODE_ONLY.indexOf(b));
    }

    private static int countBatchNorms(JsonNode m) {
        int n = 1; // the stem
        for (JsonNode b : m.get("blocks")) {
            n += 3 * b.asInt();
        }
        return n + 3; // one downsample per stage
    }

    private static ConfigFact fact(ImportReport r, String name) {
        return r.facts().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void importedBundlesCaptionAndEntailExactlyAsTheSameWeightsFromSafetensors() throws IOException {
        Path image = tmp.resolve("image.png");
        BufferedImage im = new BufferedImage(80, 56, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(5);
        for (int y = 0; y < im.getHeight(); y++) {
            for (int x = 0; x < im.getWidth(); x++) {
                im.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        ImageIO.write(im, "png", image.toFile());
        ImportReport f16 = importFile("fairseq_legacy_f16_args.pt", ImportOptions.defaults());
        ImportReport hf = importFile("hf_prefixed_pytorch_model.bin", ImportOptions.defaults().withImageSize(64));
        Model imported = ModelBundle.load(f16.outDir());
        Model reference = new Model(imported.config(), new Weights(new ArrayList<>(reference().values())),
                imported.vocabulary(), "reference.safetensors");
        Outputs want = run(reference, image);
        assertEquals(want, run(imported, image));
        assertEquals(want, run(ModelBundle.load(hf.outDir()), image));
        assertFalse(want.caption.isEmpty(), "the caption has tokens");
    }

    private record Outputs(List<Integer> caption, String text, String answer, Map<String, Double> probabilities) {
    }

    private static Outputs run(Model model, Path image) {
        try (MueSession s = Mue.session().model(model).backend("java").open()) {
            GenerationResult g = s.caption(image);
            EntailmentResult e = s.entail(image, "a dog on a mat");
            return new Outputs(java.util.Arrays.stream(g.tokens()).boxed().toList(), g.text(), e.answer(),
                    e.probabilities());
        }
    }

    @Test
    void refusesAnImageSizeItCannotInferNamingTheFlag() {
        ConfigInferenceException e = assertThrows(ConfigInferenceException.class,
                () -> importFile("hf_pytorch_model.bin", ImportOptions.defaults()));
        assertEquals("image_size", e.fact());
        assertEquals("--image-size", e.flag());
        assertTrue(e.getMessage().contains("hf_pytorch_model.bin: cannot infer image_size: it is in no tensor and the"
                + " checkpoint stores no arguments (args/cfg); pass --image-size S"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("hf_pytorch_model.bin-bundle")), "nothing written");
    }

    @Test
    void aFlagThatContradictsTheTensorsIsAnErrorNamingBoth() {
        ConfigInferenceException e = assertThrows(ConfigInferenceException.class,
                () -> importFile("fairseq_zip_f32_cfg.pt", ImportOptions.defaults().withHeads(8)));
        assertEquals("--heads", e.flag());
        assertTrue(e.getMessage().contains("heads is 4 in the tensors (encoder.layers.0.self_attn.c_attn dim 0) but"
                + " --heads says 8"), e.getMessage());
        ImportReport r = importFile("fairseq_zip_f32_cfg.pt", ImportOptions.defaults().withHeads(4).withImageSize(32));
        assertEquals("flag --image-size (overrides cfg.task.patch_image_size = 64)", fact(r, "image_size").source());
        assertEquals(32, r.config().imageSize());
        assertTrue(fact(r, "heads").source().endsWith("agrees with cfg.model.encoder_attention_heads, agrees with"
                + " cfg.model.decoder_attention_heads, agrees with --heads"), fact(r, "heads").source());
    }

    @Test
    void missingAndUnknownKeysAreErrorsNamingEachKey() {
        WeightMismatchException e = assertThrows(WeightMismatchException.class,
                () -> importFile("wrong_keys.pt", ImportOptions.defaults()));
        assertEquals(2, e.problems().size(), e.getMessage());
        assertTrue(e.problems().get(0).endsWith("wrong_keys.pt: missing key encoder.layers.1.fc2.bias [32]"), e.getMessage());
        assertTrue(e.problems().get(1).endsWith("wrong_keys.pt: unknown key encoder.layers.0.adapter.weight"), e.getMessage());
    }

    @Test
    void anUntiedOutputProjectionIsAnError() {
        WeightMismatchException e = assertThrows(WeightMismatchException.class,
                () -> importFile("untied.pt", ImportOptions.defaults()));
        assertTrue(e.getMessage().contains("decoder.output_projection.weight differs from encoder.embed_tokens.weight"),
                e.getMessage());
    }

    @Test
    void buildsOfaDictionaryOf59457EntriesFromTheReleasedLayout() throws IOException {
        Path dict = CheckpointsFixture.file("dict.txt");
        assertEquals(50_260, Files.readAllLines(dict).size());
        Vocabulary v = OfaDictionary.build(dict, OfaDictionary.CODE_DICT_SIZE, OfaDictionary.NUM_BINS);
        assertEquals(59_457, v.size());
        assertEquals("madeupword0002", v.symbol(50_263));
        assertEquals("<mask>", v.symbol(50_264));
        assertEquals("<code_0>", v.symbol(50_265));
        assertEquals("<code_8191>", v.symbol(58_456));
        assertEquals("<bin_0>", v.symbol(58_457)); // OFA's ofa_task.py prints tgt_dict[58457] for this
        assertEquals("<bin_999>", v.symbol(59_456));
        assertTrue(v.isBpe(4) && !v.isBpe(50_261));

        Path shortDict = tmp.resolve("short.txt");
        List<String> lines = Files.readAllLines(dict);
        Files.write(shortDict, lines.subList(1, lines.size()));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> OfaImport.importCheckpoint(
                CheckpointsFixture.file("fairseq_zip_f32_cfg.pt"), shortDict, tmp.resolve("out"), ImportOptions.defaults()));
        assertTrue(e.getMessage().contains("gives 59456 entries") && e.getMessage().contains("has 59457 rows in"
                + " encoder.embed_tokens.weight"), e.getMessage());
    }

    @Test
    void refusesANonEmptyOutputUnlessForcedAndThenDropsItsStalePolicy() throws IOException {
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("policy.json"), "{}");
        Path ckpt = CheckpointsFixture.file("fairseq_zip_f32_cfg.pt");
        Path dict = CheckpointsFixture.file("dict.txt");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OfaImport.importCheckpoint(ckpt, dict, out, ImportOptions.defaults()));
        assertEquals(out + " is not empty; pass --force to overwrite", e.getMessage());
        ImportReport r = OfaImport.importCheckpoint(ckpt, dict, out, ImportOptions.defaults().withForce(true));
        assertTrue(r.removedPolicy());
        try (var files = Files.list(out)) {
            assertEquals(List.of("config.json", "dict.txt", "model.safetensors", "model.safetensors.sha256"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (var files = Files.list(tmp)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".out.import-")),
                    "the temporary bundle directory is gone");
        }
        assertTrue(String.join("\n", r.lines()).contains("removed the replaced bundle's policy.json"));
    }
}
