/**
 * Vector API compute kernels of the Java backend, each with a naive scalar control used by the tests.
 */
package dev.mue.backend.java.kernels;
