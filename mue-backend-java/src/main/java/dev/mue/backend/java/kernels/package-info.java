/**
 * Vector API compute kernels of the Java backend, each with a naive scalar control used by the
 * tests: register-blocked outer-product micro-kernels sized by vector shape, weights packed once
 * into their panels, and the elementwise kernels around them; and {@link
 * dev.mue.backend.java.kernels.JvParallel}, the parallel loops that the kernels and the backend's
 * layer operations run on.
 */
package dev.mue.backend.java.kernels;
