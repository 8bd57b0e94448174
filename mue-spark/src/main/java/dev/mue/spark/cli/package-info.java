/**
 * The {@code mue spark} command ({@link dev.mue.spark.cli.SparkCli}): a quick start on one machine
 * ({@code --master local[N]}) and the main class for {@code spark-submit} on a cluster.
 */
package dev.mue.spark.cli;
