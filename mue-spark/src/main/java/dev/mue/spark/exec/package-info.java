/**
 * What runs on the executors: the serialisable job description ({@link dev.mue.spark.exec.JobSpec}),
 * the per-JVM session cache ({@link dev.mue.spark.exec.ExecutorSessions}) and the partition runner
 * that batches rows and turns bad rows into error rows ({@link dev.mue.spark.exec.PartitionRunner}).
 */
package dev.mue.spark.exec;
