/**
 * The JUnit 5 conformance suite (design §7), in {@code src/main/java} so that backend modules run
 * it through surefire's {@code dependenciesToScan}: {@code BackendConformanceTest} (the backend
 * named by {@code -Dmue.tck.backend} against the reference), {@code CrossBackendTest} (every
 * available backend pairwise), and {@link dev.mue.tck.suite.TckSummary}, which prints one line per
 * backend. The TCK's own self-tests ({@code GoldenTest}: the reference against its committed
 * golden files; {@code ReferenceSelfTest}: the reference's invariants; {@code TckMechanicsTest}:
 * the checker's machinery) live in this module's {@code src/test}, so they run once, here, and not
 * again in every backend.
 */
package dev.mue.tck.suite;
