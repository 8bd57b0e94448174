/**
 * The {@code mue} command line: {@link dev.mue.cli.MueCli} and its subcommands {@code caption},
 * {@code entail}, {@code backends}, {@code plan} and {@code init}.
 */
package dev.mue.cli;
