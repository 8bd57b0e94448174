/**
 * The pure-Java backend: executes a plan with per-example exits and batch compaction.
 */
package dev.mue.backend.java;
