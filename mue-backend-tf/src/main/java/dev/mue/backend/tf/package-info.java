/**
 * The TensorFlow backend: the plan compiled to TF graphs whose exit gates are {@code If} ops, plus
 * an eager mode that runs the same ops driven from the host.
 */
package dev.mue.backend.tf;
