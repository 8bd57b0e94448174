/**
 * Vector API compute kernels of the Java backend, each with a naive scalar control used by the
 * tests: register-blocked outer-product micro-kernels sized by vector shape, weights packed once
 * into their panels, and the elementwise kernels around them.
 */
package dev.mue.backend.java.kernels;
