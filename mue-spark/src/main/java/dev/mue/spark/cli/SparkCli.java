package dev.mue.spark.cli;

import dev.mue.api.MueException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
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
 * The {@code mue spark} command: captioning and visual entailment over a folder of images or a
 * table, on Spark, written as Parquet or JSON lines. {@code ./mue spark ...} runs it on the class
 * path with Spark's jars; {@code spark-submit --class dev.mue.spark.cli.SparkCli mue-spark-all.jar
 * ...} runs it on a cluster.
 *
 * <p>Errors end with one line on standard error, {@code mue spark: error: <message>}, and exit
 * code 1; usage errors exit with code 2. Rows that fail do not make the command fail: they are
 * written with the {@code error} column set and counted in the summary.
 */
@Command(name = "mue spark", mixinStandardHelpOptions = true, versionProvider = SparkCli.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Captions images or answers entailment questions on Apache Spark, with MuE exits.",
        subcommands = {CaptionCommand.class, EntailCommand.class, CommandLine.HelpCommand.class})
public final class SparkCli implements Runnable {
    private static final String STACKTRACE = "--stacktrace";

    @Spec
    CommandSpec spec;

    @Option(names = STACKTRACE, hidden = true, scope = ScopeType.INHERIT, description = "Print the stack trace of an error.")
    boolean stacktrace;

    /** Without a subcommand: a usage error. */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /** Runs the command line and exits with its exit code. */
    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    /**
     * Runs the command line in-process, writing to the given streams.
     *
     * @return the exit code: 0 on success (error rows included), 1 on an error, 2 on a usage error
     */
    public static int run(PrintStream out, PrintStream err, String... args) {
        boolean trace = Arrays.asList(args).contains(STACKTRACE);
        CommandLine cl = new CommandLine(new SparkCli());
        cl.setOut(new PrintWriter(new OutputStreamWriter(out, out.charset()), true));
        cl.setErr(new PrintWriter(new OutputStreamWriter(err, err.charset()), true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            PrintWriter e = cmd.getErr();
            cmd.getOut().flush();
            e.println("mue spark: error: " + message(ex));
            if (trace) {
                ex.printStackTrace(e);
            }
            e.flush();
            return 1;
        });
        cl.setParameterExceptionHandler((ex, cmdArgs) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter e = cmd.getErr();
            e.println("mue spark: " + oneLine(ex.getMessage()));
            e.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
            e.flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        try {
            return cl.execute(args);
        } finally {
            cl.getOut().flush();
            cl.getErr().flush();
        }
    }

    /**
     * One line that says what went wrong: the message of the first mue exception in the cause chain
     * (Spark wraps a task's exception in its own), else of the outermost exception.
     */
    static String message(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof MueException) {
                return oneLine(t.getMessage());
            }
        }
        String m = ex.getMessage();
        return oneLine(m == null || m.isBlank() ? ex.toString() : m);
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** mue's version (the jar manifest), Spark's and Java's. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = SparkCli.class.getPackage().getImplementationVersion();
            return new String[] {"mue spark " + (v == null ? "(development build)" : v),
                    "Apache Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION() + " (Scala "
                            + scala.util.Properties.versionNumberString() + ")",
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
