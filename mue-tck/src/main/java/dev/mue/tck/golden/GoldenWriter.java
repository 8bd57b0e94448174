package dev.mue.tck.golden;

import dev.mue.tck.cases.TckCase;
import dev.mue.tck.cases.TckCases;
import dev.mue.tck.check.CaseRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Regenerates the golden files from the catalogue and the reference. Run it only when a change to
 * the reference or the catalogue is intended, and review the diff:
 *
 * <pre>
 * ./mvnw -q -o -pl mue-tck -am compile dependency:build-classpath -Dmdep.outputFile=target/tck.cp
 * java -cp mue-tck/target/classes:$(cat mue-tck/target/tck.cp) dev.mue.tck.golden.GoldenWriter \
 *     mue-tck/src/main/resources/dev/mue/tck/golden
 * </pre>
 */
public final class GoldenWriter {
    private GoldenWriter() {
    }

    /** Writes one file per golden case into the directory given as the only argument. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: GoldenWriter <directory>");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        for (String name : TckCases.goldenNames()) {
            TckCase c = TckCases.byName(name);
            String text = GoldenFiles.text(GoldenFiles.document(c, CaseRunner.reference(c)));
            Path f = dir.resolve(name + ".json");
            Files.writeString(f, text, StandardCharsets.UTF_8);
            System.out.println("wrote " + f + " (" + text.length() + " chars)");
        }
    }
}
