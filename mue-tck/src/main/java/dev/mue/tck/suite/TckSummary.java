package dev.mue.tck.suite;

import dev.mue.tck.check.CpuFeatures;
import dev.mue.tck.check.Report;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The suite's tallies, one per backend under test (and one for the cross-backend comparison),
 * printed as one line each when the test plan ends, e.g.
 * {@code TCK[java]: 27 cases (27 pass, 0 fail, 0 unsupported, 0 skipped), 4657 decisions compared,
 * 0 close calls, 0 token ties, max rel error 2.1e-06 (encoder), 2.3e-06 (logits), 1.4e-07
 * (similarity); 15/15 bad inputs rejected; cpu amd64 avx2,fma}. The last part names the CPU
 * features the run had ({@link CpuFeatures}), because float32 kernels are chosen by them. Close calls are decisions whose reference margin was
 * below 1e-4 (counted, not compared); token ties are searched hypotheses that differed where the
 * reference's ranking had a near-tie (excused). See {@link dev.mue.tck.check.Tolerances}.
 *
 * <p>The line goes to standard output so that it appears in the build log: it is the TCK's
 * verdict, not a diagnostic.
 */
public final class TckSummary {
    private static final Map<String, Tally> TALLIES = new LinkedHashMap<>();
    private static volatile boolean listenerActive;

    private TckSummary() {
    }

    /** How a case ended. */
    public enum Outcome {
        /** Every check held. */
        PASS,
        /** A check failed. */
        FAIL,
        /** The backend declares it lacks a capability the case needs. */
        UNSUPPORTED,
        /** Not run, e.g. the backend is unavailable here. */
        SKIPPED
    }

    /** One backend's tally. */
    public static final class Tally {
        private final String id;
        private final Map<Outcome, Integer> outcomes = new LinkedHashMap<>();
        private final Report report = new Report();
        private int badInputs;
        private int badRejected;
        private String note = "";
        private boolean printed;

        Tally(String id) {
            this.id = id;
            for (Outcome o : Outcome.values()) {
                outcomes.put(o, 0);
            }
        }

        /** Counts a case's outcome. */
        public synchronized void outcome(Outcome o) {
            outcomes.merge(o, 1, Integer::sum);
        }

        /** Adds a comparison's counts and maxima. */
        public synchronized void add(Report r) {
            report.add(r);
        }

        /** Counts one bad-input check. */
        public synchronized void badInput(boolean rejected) {
            badInputs++;
            if (rejected) {
                badRejected++;
            }
        }

        /** A remark appended to the line (e.g. why the suite was skipped). */
        public synchronized void note(String n) {
            note = n;
        }

        /** The summary line. */
        public synchronized String line() {
            int cases = outcomes.values().stream().mapToInt(Integer::intValue).sum();
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "TCK[%s]: %d cases (%d pass, %d fail, %d unsupported, %d skipped), %d decisions compared, "
                            + "%d close calls, %d token ties, max rel error %.2g (encoder), %.2g (logits), "
                            + "%.2g (similarity)",
                    id, cases, outcomes.get(Outcome.PASS), outcomes.get(Outcome.FAIL), outcomes.get(Outcome.UNSUPPORTED),
                    outcomes.get(Outcome.SKIPPED), report.decisions(), report.closeCalls(), report.tokenTies(),
                    report.maxEncoderError(), report.maxLogitError(), report.maxSimilarityError()));
            if (report.flippedCloseCalls() > 0) {
                sb.append(" (").append(report.flippedCloseCalls()).append(" close calls decided the other way)");
            }
            if (badInputs > 0) {
                sb.append("; ").append(badRejected).append('/').append(badInputs).append(" bad inputs rejected");
            }
            if (!note.isEmpty()) {
                sb.append("; ").append(note);
            }
            sb.append("; ").append(CpuFeatures.describe());
            return sb.toString();
        }
    }

    /** The tally of {@code id}, created on first use. */
    public static synchronized Tally of(String id) {
        return TALLIES.computeIfAbsent(id, Tally::new);
    }

    /** Called by {@link TckSummaryListener} when a test plan starts: it will print the lines. */
    static void listenerStarted() {
        listenerActive = true;
    }

    /** Whether the listener is registered (otherwise test classes print their own line). */
    static boolean listenerActive() {
        return listenerActive;
    }

    /** Prints every line not yet printed. */
    public static void print(PrintStream out) {
        List<String> lines = new ArrayList<>();
        synchronized (TckSummary.class) {
            for (Tally t : TALLIES.values()) {
                synchronized (t) {
                    if (!t.printed) {
                        t.printed = true;
                        lines.add(t.line());
                    }
                }
            }
        }
        for (String l : lines) {
            out.println(l);
        }
        out.flush();
    }
}
