package dev.mue.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on standard error, redrawn with carriage returns at most four times a
 * second: done out of total, rate and ETA (what {@code mue eval} shows while it runs).
 */
final class CountBar {
    private static final int WIDTH = 24;
    private final PrintWriter err;
    private final String unit;
    private final long start = System.nanoTime();
    private long lastDraw;
    private boolean drawn;

    CountBar(PrintWriter err, String unit) {
        this.err = err;
        this.unit = unit;
    }

    /** Shows {@code done} of {@code total}. */
    void update(long done, long total) {
        long now = System.nanoTime();
        if (now - lastDraw < 250_000_000L && done < total) {
            return;
        }
        lastDraw = now;
        double elapsed = (now - start) / 1e9;
        int filled = total <= 0 ? 0 : (int) (WIDTH * Math.min(done, total) / total);
        String eta = done == 0 ? "--" : TrainCommand.ProgressBar.duration(elapsed / done * (total - done));
        err.print(String.format(Locale.ROOT, "\r[%s%s] %d/%d %s, %.0f/s, eta %s ", "#".repeat(filled),
                ".".repeat(WIDTH - filled), done, total, unit, done / Math.max(elapsed, 1e-9), eta));
        err.flush();
        drawn = true;
    }

    /** Erases the bar, so that what follows starts on a clean line. */
    void clear() {
        if (drawn) {
            err.print("\r" + " ".repeat(100) + "\r");
            err.flush();
            drawn = false;
        }
    }
}
