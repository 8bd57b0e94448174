/**
 * The mue technology compatibility kit (design §7): a float64 reference executor that is the
 * executable form of the model and exit semantics (design §3-4), a catalogue of seeded cases with
 * golden files, and the JUnit 5 conformance suite that every backend module runs against itself.
 *
 * <p>A backend module adds this artifact as a test dependency, scans it with surefire's
 * {@code dependenciesToScan} and names itself with the system property {@code mue.tck.backend}.
 * The suite's tests live in {@code src/main/java}, so JUnit is a compile-time dependency.
 *
 * <p>{@code provides} registers the listener that prints one summary line per backend when the
 * test plan ends; it is also listed in {@code META-INF/services} for the class path.
 */
module dev.mue.tck {
    requires transitive dev.mue.api;
    requires dev.mue.planner;
    requires transitive dev.mue.runtime;
    requires transitive dev.mue.session;
    requires transitive com.fasterxml.jackson.databind;
    requires transitive org.junit.jupiter.api;
    requires transitive org.junit.platform.launcher;

    exports dev.mue.tck.reference;
    exports dev.mue.tck.cases;
    exports dev.mue.tck.check;
    exports dev.mue.tck.golden;
    exports dev.mue.tck.harness;
    exports dev.mue.tck.suite;

    opens dev.mue.tck.suite to org.junit.platform.commons;

    provides org.junit.platform.launcher.TestExecutionListener with dev.mue.tck.suite.TckSummaryListener;
}
