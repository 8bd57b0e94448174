/**
 * mue on Apache Spark: {@link dev.mue.spark.MueSpark} adds captions or entailment answers, with
 * their exit traces, to a {@code Dataset<Row>} of images.
 *
 * <p>This module runs on the class path (Spark is not modular); the mue modules it uses are plain
 * jars there, their services found through {@code META-INF/services}.
 */
package dev.mue.spark;
