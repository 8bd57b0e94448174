package dev.mue.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
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
 * <p>Exit codes: 0 success; 1 a runtime failure (a bad model, image or input, a backend that
 * cannot start, output that cannot be written), reported as one line on standard error,
 * {@code mue: error: <message>}; 2 a usage error (an unknown option or subcommand, a missing or
 * invalid option value), reported as {@code mue: <message>} and a hint to {@code --help}. With
 * {@code --json} either is one JSON object on standard error instead ({@link #errorJson}), so that
 * standard output holds only results. Output that cannot be written is a runtime failure (exit
 * code 1); when the reader of a pipe has gone (a broken pipe) no message is printed. The hidden
 * {@code --stacktrace} flag adds the stack trace.
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
    private static final String JSON_FLAG = "--json";

    /** Exit code of success. */
    public static final int EXIT_OK = 0;
    /** Exit code of a runtime failure. */
    public static final int EXIT_FAILURE = 1;
    /** Exit code of a usage error (picocli's own and invalid option values alike). */
    public static final int EXIT_USAGE = 2;
    /** The version of the JSON objects {@code --json} prints (results and errors); see docs/cli-json.schema.json. */
    public static final int JSON_SCHEMA_VERSION = 1;

    private static final String[] EXIT_CODES = {
        EXIT_OK + ":Success.",
        EXIT_FAILURE + ":Runtime failure: a model, image or input that cannot be used, a backend that cannot start, "
                + "output that cannot be written (one line: mue: error: ...).",
        EXIT_USAGE + ":Usage error: an unknown option or subcommand, a missing or invalid option value "
                + "(mue: ... and a hint to --help).",
    };

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
        quietGpuProbeWithoutDriver();
        // PrintStream swallows write errors; this stream keeps the first one so that its reason
        // (e.g. "No space left on device") can be reported.
        OutputCheck check = new OutputCheck(new FileOutputStream(FileDescriptor.out));
        PrintStream out = new PrintStream(check, false, System.out.charset());
        System.exit(run(out, System.err, check::failure, args));
    }

    /**
     * Runs the command line in-process, writing to the given streams instead of the standard ones.
     *
     * @return the exit code: {@link #EXIT_OK}, {@link #EXIT_FAILURE} or {@link #EXIT_USAGE}
     */
    public static int run(PrintStream out, PrintStream err, String... args) {
        return run(out, err, () -> null, args);
    }

    private static int run(PrintStream out, PrintStream err, Supplier<IOException> outFailure,
            String... args) {
        CommandLine cl = commandLine(out, err, args);
        int code;
        try {
            code = cl.execute(args);
        } finally {
            cl.getOut().flush();
            cl.getErr().flush();
        }
        // A result that could not be written is a failure, whatever the command itself returned.
        if (out.checkError()) {
            IOException why = outFailure.get();
            if (why != null && "Broken pipe".equals(why.getMessage())) {
                // the reader went away (mue ... | head -1): nothing is lost that anyone reads, so no
                // message, as a command killed by SIGPIPE prints none; the exit code still says it
                return code == EXIT_OK ? EXIT_FAILURE : code;
            }
            String message = "cannot write the output: " + (why == null || why.getMessage() == null
                    ? "the output stream reported an error" : why.getMessage());
            PrintWriter e = cl.getErr();
            e.println(Arrays.asList(args).contains(JSON_FLAG) ? errorJson(message, "IOException", EXIT_FAILURE)
                    : "mue: error: " + message);
            e.flush();
            return code == EXIT_OK ? EXIT_FAILURE : code;
        }
        return code;
    }

    /**
     * On a host without an NVIDIA driver, DJL's probe for GPUs can only fail; its warning there says
     * nothing about mue's run, so it is raised to error (slf4j-simple reads system properties before
     * its properties file). Set before any logger exists; an explicit setting is kept.
     */
    private static void quietGpuProbeWithoutDriver() {
        String key = "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils";
        if (System.getProperty(key) == null && !Files.exists(Path.of("/proc/driver/nvidia"))) {
            System.setProperty(key, "error");
        }
    }

    /** An output stream that remembers the first write error of the stream it wraps. */
    private static final class OutputCheck extends FilterOutputStream {
        private volatile IOException failure;

        OutputCheck(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                remember(e);
                throw e;
            }
        }

        @Override
        public void write(int b) throws IOException {
            try {
                out.write(b);
            } catch (IOException e) {
                remember(e);
                throw e;
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (IOException e) {
                remember(e);
                throw e;
            }
        }

        private void remember(IOException e) {
            if (failure == null) {
                failure = e;
            }
        }

        IOException failure() {
            return failure;
        }
    }

    /**
     * The error object {@code --json} prints on standard error: {@code {"schema_version": 1,
     * "error": {"message": ..., "exception": ..., "exit_code": ...}}}.
     */
    static String errorJson(String message, String exception, int exitCode) {
        ObjectNode root = ERROR_JSON.createObjectNode();
        root.put("schema_version", JSON_SCHEMA_VERSION);
        ObjectNode e = root.putObject("error");
        e.put("message", message);
        e.put("exception", exception);
        e.put("exit_code", exitCode);
        return root.toString();
    }

    private static final ObjectMapper ERROR_JSON = new ObjectMapper();

    /** Whether the command that ran (the innermost subcommand) was given {@code --json}. */
    private static boolean json(CommandLine.ParseResult parseResult) {
        CommandLine.ParseResult pr = parseResult;
        while (pr != null && pr.hasSubcommand()) {
            pr = pr.subcommand();
        }
        return pr != null && pr.hasMatchedOption(JSON_FLAG);
    }

    /** Adds the exit codes to the help of the command and of every subcommand. */
    private static void documentExitCodes(CommandLine cl) {
        Map<String, String> codes = new LinkedHashMap<>();
        for (String c : EXIT_CODES) {
            int colon = c.indexOf(':');
            codes.put(c.substring(0, colon), c.substring(colon + 1));
        }
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(codes);
        for (CommandLine sub : cl.getSubcommands().values()) {
            documentExitCodes(sub);
        }
    }

    static CommandLine commandLine(PrintStream out, PrintStream err, String[] args) {
        boolean trace = Arrays.asList(args).contains(STACKTRACE);
        boolean jsonArg = Arrays.asList(args).contains(JSON_FLAG);
        CommandLine cl = new CommandLine(new MueCli());
        cl.setOut(writer(out));
        cl.setErr(writer(err));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        documentExitCodes(cl);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            PrintWriter e = cmd.getErr();
            cmd.getOut().flush();
            if (json(parseResult)) {
                e.println(errorJson(message(ex), ex.getClass().getSimpleName(), EXIT_FAILURE));
            } else {
                e.println("mue: error: " + message(ex));
            }
            if (trace) {
                ex.printStackTrace(e);
            }
            e.flush();
            return EXIT_FAILURE;
        });
        cl.setParameterExceptionHandler((ex, cmdArgs) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter e = cmd.getErr();
            cmd.getOut().flush();
            String hint = "Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.";
            if (jsonArg) {
                e.println(errorJson(oneLine(ex.getMessage()) + " (" + hint + ")", "ParameterException", EXIT_USAGE));
            } else {
                e.println("mue: " + oneLine(ex.getMessage()));
                e.println(hint);
            }
            if (trace) {
                ex.printStackTrace(e);
            }
            e.flush();
            return EXIT_USAGE;
        });
        return cl;
    }

    private static PrintWriter writer(PrintStream s) {
        Charset cs = s.charset();
        return new PrintWriter(new OutputStreamWriter(s, cs), true);
    }

    /**
     * A usage error of {@code spec}'s command: exit code {@link #EXIT_USAGE}, {@code mue: <message>}
     * and the hint to {@code --help}, as picocli's own errors get. For option values that parse but
     * are out of range.
     */
    static ParameterException usage(CommandSpec spec, String message) {
        return new ParameterException(spec.commandLine(), message);
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
