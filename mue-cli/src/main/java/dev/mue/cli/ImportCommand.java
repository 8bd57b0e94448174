package dev.mue.cli;

import dev.mue.api.tensor.DType;
import dev.mue.importer.ImportOptions;
import dev.mue.importer.ImportReport;
import dev.mue.importer.OfaImport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mue import CHECKPOINT --out DIR --dict DICT}: turns an OFA checkpoint (fairseq {@code .pt}
 * or the Hugging Face port's {@code pytorch_model.bin}) into a mue bundle and prints where every
 * config fact came from, what was skipped and what was checked.
 */
@Command(name = "import", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = {"Import an OFA checkpoint (fairseq .pt, zip or legacy format, F32/F16; or a Hugging Face"
                + " pytorch_model.bin) into a mue bundle.",
                "The checkpoint is read through an allow-list of pickle globals; nothing in it is executed."})
final class ImportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "The checkpoint file.")
    Path checkpoint;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write the bundle to.")
    Path out;

    @Option(names = "--dict", required = true, paramLabel = "DICT",
            description = "OFA's fairseq dict.txt (utils/BPE/dict.txt, 50,260 lines); <mask>, <code_i> and <bin_i> are"
                    + " appended as OFA's task does.")
    Path dict;

    @Option(names = "--heads", paramLabel = "N",
            description = "Attention heads (normally read from the c_attn tensors; must agree with them).")
    Integer heads;

    @Option(names = "--image-size", paramLabel = "S",
            description = "Input image side; needed when the checkpoint stores no patch_image_size (a Hugging Face"
                    + " pytorch_model.bin). OFA's fine-tunes use 480.")
    Integer imageSize;

    @Option(names = "--name", paramLabel = "NAME", description = "Config name (default: the stored arch, else the file name).")
    String name;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32",
            description = "Weight type in the bundle: f32, f16 or bf16. Default: ${DEFAULT-VALUE} (every value kept exactly).")
    DType dtype;

    @Option(names = "--force", description = "Replace the bundle files in a non-empty DIR (its policy.json is removed).")
    boolean force;

    @Override
    public Integer call() {
        ImportOptions options;
        try {
            options = new ImportOptions(heads, imageSize, name, dtype, force);
        } catch (IllegalArgumentException e) {
            throw MueCli.usage(spec, e.getMessage());
        }
        ImportReport report = OfaImport.importCheckpoint(checkpoint, dict, out, options);
        PrintWriter w = spec.commandLine().getOut();
        report.lines().forEach(w::println);
        w.flush();
        return 0;
    }
}
