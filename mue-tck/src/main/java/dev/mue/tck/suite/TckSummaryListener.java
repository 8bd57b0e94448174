package dev.mue.tck.suite;

import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

/**
 * Prints {@link TckSummary}'s lines when the test plan ends. Registered with the JUnit Platform
 * launcher through {@code META-INF/services} (and {@code provides} in the module descriptor), so
 * any backend module that scans the TCK gets it.
 */
public final class TckSummaryListener implements TestExecutionListener {

    /** Instantiated by the launcher. */
    public TckSummaryListener() {
    }

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        TckSummary.listenerStarted();
    }

    @Override
    public void testPlanExecutionFinished(TestPlan testPlan) {
        TckSummary.print(System.out);
    }
}
