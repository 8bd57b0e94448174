package dev.mue.cli;

import dev.mue.api.ModelFormatException;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.RandomWeights;
import dev.mue.api.model.Weights;
import dev.mue.api.tensor.DType;
import dev.mue.api.text.Vocabulary;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mue init --preset NAME --seed N OUT}: writes a bundle with seeded random weights and a
 * vocabulary built from the built-in English corpus. The same arguments always give the same bytes.
 */
@Command(name = "init", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = "Write a model bundle with seeded random weights and the built-in vocabulary.")
final class InitCommand implements Callable<Integer> {
    /** Class-path resource (next to this class) with the corpus the vocabulary is built from. */
    static final String CORPUS = "corpus.txt";
    /** Most non-special vocabulary entries kept, so that the vocabulary stays under 1000 entries. */
    static final int MAX_ENTRIES = 995;

    @Spec
    CommandSpec spec;

    @Option(names = "--preset", required = true, paramLabel = "NAME",
            description = "Architecture preset: mue-demo, ofa-tiny, ofa-medium, ofa-base, ofa-large, ofa-huge.")
    String preset;

    @Option(names = "--seed", required = true, paramLabel = "N", description = "Seed of the random weights.")
    long seed;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32",
            description = "Weight type in the file: f32, f16 or bf16. Default: ${DEFAULT-VALUE}.")
    DType dtype;

    @Option(names = "--image-size", paramLabel = "S", description = "Input image side (default: the preset's).")
    Integer imageSize;

    @Option(names = "--force", description = "Write into OUT even if it is not empty.")
    boolean force;

    @Parameters(index = "0", paramLabel = "OUT", description = "Directory to write the bundle to.")
    Path out;

    @Override
    public Integer call() throws IOException {
        ModelConfig config;
        try {
            config = ModelConfig.preset(preset);
            if (imageSize != null) {
                config = config.withImageSize(imageSize);
            }
        } catch (IllegalArgumentException e) {
            throw MueCli.usage(spec, e.getMessage());
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("cannot write the bundle: " + out + " exists and is not a directory");
        }
        if (!force && Files.isDirectory(out)) {
            try (Stream<Path> entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException(out + " is not empty; pass --force to overwrite");
                }
            }
        }
        Vocabulary vocab = defaultVocabulary();
        config = config.withVocabSize(vocab.size());
        Weights weights = RandomWeights.generate(config, seed);
        ModelBundle.write(out, config, weights, vocab, dtype);

        PrintWriter w = spec.commandLine().getOut();
        w.println(String.format(Locale.ROOT, "wrote %s: %s (%s, d %d, %d+%d layers, %dpx), %,d parameters in %s, "
                + "%d vocabulary entries, seed %d", out, ModelBundle.WEIGHTS, config.name(), config.dModel(),
                config.encoderLayers(), config.decoderLayers(), config.imageSize(), weights.parameterCount(),
                dtype.name().toLowerCase(Locale.ROOT), vocab.size(), seed));
        for (String f : List.of(ModelBundle.CONFIG, ModelBundle.WEIGHTS, ModelBundle.VOCABULARY)) {
            w.println(String.format(Locale.ROOT, "  %-18s %,12d bytes", f, Files.size(out.resolve(f))));
        }
        w.flush();
        return 0;
    }

    /** The corpus lines: blank lines and lines starting with {@code #} are skipped. */
    static List<String> corpus() {
        List<String> lines = new ArrayList<>();
        try (InputStream in = InitCommand.class.getResourceAsStream(CORPUS)) {
            if (in == null) {
                throw new ModelFormatException("built-in corpus resource missing: dev/mue/cli/" + CORPUS);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null;) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    lines.add(line);
                }
            }
        } catch (IOException e) {
            throw new ModelFormatException("cannot read the built-in corpus dev/mue/cli/" + CORPUS + ": " + e, e);
        }
        return lines;
    }

    /** The vocabulary of every bundle {@code init} writes: the corpus's most frequent BPE tokens. */
    static Vocabulary defaultVocabulary() {
        return Vocabulary.fromCorpus(corpus(), MAX_ENTRIES);
    }
}
