package dev.mue.cli;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code mue} command: captioning and visual entailment with MuE dynamic early exits, plus
 * {@code backends}, {@code plan}, {@code init}, {@code eval}, {@code calibrate}, {@code train} and {@code serve}.
 *
 * <p>Errors end with one line on standard error, {@code mue: error: <message>}, and exit code 1;
 * usage errors exit with code 2. The hidden {@code --stacktrace} flag adds the stack trace.
 */
@Command(name = "mue", mixinStandardHelpOptions = true, versionProvider = MueCli.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Runs OFA-style vision-language models with MuE dynamic early exiting.",
        subcommands = {CaptionCommand.class, EntailCommand.class, BackendsCommand.class, PlanCommand.class,
                InitCommand.class, ImportCommand.class, EvalCommand.class, CalibrateCommand.class, TrainCommand.class,
                ServeCommand.class,
                CommandLine.HelpCommand.class})
public final class MueCli implements Runnable {
    /** Class-path resource directory of the bundled default model (in {@code mue-model-grid}). */
    public static final String DEFAULT_MODEL = dev.mue.model.grid.GridModel.RESOURCE;

    private static final String STACKTRACE = "--stacktrace";

    @Spec
    CommandSpec spec;

    @Option(names = STACKTRACE, hidden = true, scope = ScopeType.INHERIT,
            description = "Print the stack trace of an error.")
    boolean stacktrace;

    /** Without a subcommand: a usage error. */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /** Runs the command line and exits with its exit code. */
    public static void main(String[] args) {
        System.exit(commandLine(System.out, System.err, args).execute(args));
    }

    /**
     * Runs the command line in-process, writing to the given streams instead of the standard ones.
     *
     * @return the exit code: 0 on success, 1 on an error, 2 on a usage error
     */
    public static int run(PrintStream out, PrintStream err, String... args) {
        CommandLine cl = commandLine(out, err, args);
        try {
            return cl.execute(args);
        } finally {
            cl.getOut().flush();
            cl.getErr().flush();
        }
    }

    static CommandLine commandLine(PrintStream out, PrintStream err, String[] args) {
        boolean trace = Arrays.asList(args).contains(STACKTRACE);
        CommandLine cl = new CommandLine(new MueCli());
        cl.setOut(writer(out));
        cl.setErr(writer(err));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            PrintWriter e = cmd.getErr();
            cmd.getOut().flush();
            e.println("mue: error: " + message(ex));
            if (trace) {
                ex.printStackTrace(e);
            }
            e.flush();
            return 1;
        });
        cl.setParameterExceptionHandler((ex, cmdArgs) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter e = cmd.getErr();
            e.println("mue: " + oneLine(ex.getMessage()));
            e.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
            if (trace) {
                ex.printStackTrace(e);
            }
            e.flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        return cl;
    }

    private static PrintWriter writer(PrintStream s) {
        Charset cs = s.charset();
        return new PrintWriter(new OutputStreamWriter(s, cs), true);
    }

    /** One line that says what went wrong, for {@code mue: error: ...}. */
    static String message(Throwable ex) {
        Throwable t = ex;
        if (t instanceof UncheckedIOException u && u.getCause() != null) {
            String outer = u.getMessage();
            String inner = ioMessage(u.getCause());
            return oneLine(outer != null && !outer.equals(u.getCause().toString()) ? outer + ": " + inner : inner);
        }
        if (t instanceof IOException io) {
            return oneLine(ioMessage(io));
        }
        if (t instanceof dev.mue.api.MueException || t instanceof IllegalArgumentException
                || t instanceof IllegalStateException) {
            String m = t.getMessage();
            return oneLine(m == null || m.isBlank() ? t.toString() : m);
        }
        // Anything else is a bug: name the exception so that the one line still says what happened.
        return oneLine("internal error: " + t + " (rerun with --stacktrace for details)");
    }

    private static String ioMessage(IOException e) {
        if (e instanceof FileSystemException f) {
            String file = f.getFile();
            String what = switch (f) {
                case NoSuchFileException x -> "no such file or directory";
                case AccessDeniedException x -> "permission denied";
                case FileAlreadyExistsException x -> "file already exists";
                case DirectoryNotEmptyException x -> "directory not empty";
                case NotDirectoryException x -> "not a directory";
                default -> f.getReason() == null ? f.getClass().getSimpleName() : f.getReason();
            };
            return what + ": " + file + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** The version from the module descriptor or the jar manifest. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            // The module descriptor carries the version on the module path, the manifest on the class path.
            String v = MueCli.class.getModule().getDescriptor() != null
                    ? MueCli.class.getModule().getDescriptor().rawVersion().orElse(null) : null;
            if (v == null) {
                v = MueCli.class.getPackage().getImplementationVersion();
            }
            return new String[] {"mue " + (v == null ? "(development build)" : v),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
