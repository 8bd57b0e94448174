package dev.mue.cli;

import picocli.CommandLine.Option;

/** Output options of {@code caption} and {@code entail}. */
final class OutputOptions {
    @Option(names = "--trace",
            description = "Print every exit gate: stream, layer, similarity, threshold and decision.")
    boolean trace;

    @Option(names = "--json",
            description = "Machine-readable output: one JSON object per result (with the full trace), one per line.")
    boolean json;
}
