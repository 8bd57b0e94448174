package dev.mue.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on standard error, redrawn with carriage returns at most four times a
 * second: {@code [####....] done/total} followed by a caller's figures. {@link #update} shows done
 * out of total, rate and ETA (what {@code mue eval} shows while it runs); {@code mue train}'s bar
 * draws its own figures (loss, learning rate) through {@link #due} and {@link #draw}.
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

    /** Shows {@code done} of {@code total}, the rate in units per second and the ETA. */
    void update(long done, long total) {
        if (!due(done, total)) {
            return;
        }
        double elapsed = elapsedSeconds();
        String eta = done == 0 ? "--" : duration(elapsed / done * (total - done));
        draw(done, total, String.format(Locale.ROOT, "%s, %.0f/s, eta %s", unit, done / Math.max(elapsed, 1e-9), eta));
    }

    /**
     * Whether the bar is to be redrawn now: a quarter of a second after the last drawing, or when
     * {@code done} reaches {@code total}; a {@code true} answer counts as a drawing.
     */
    boolean due(long done, long total) {
        long now = System.nanoTime();
        if (now - lastDraw < 250_000_000L && done < total) {
            return false;
        }
        lastDraw = now;
        return true;
    }

    /** Seconds since the bar was made. */
    double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    /** Draws the bar at {@code done} of {@code total}, followed by {@code figures}. */
    void draw(long done, long total, String figures) {
        int filled = total <= 0 ? 0 : (int) (WIDTH * Math.min(done, total) / total);
        err.print(String.format(Locale.ROOT, "\r[%s%s] %d/%d %s ", "#".repeat(filled), ".".repeat(WIDTH - filled), done,
                total, figures));
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

    /** {@code 1h02m} or {@code 3m07s}. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
