package dev.mue.train.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Renders a sweep as a Markdown table and as a PNG plot of quality against measured time reduction. */
public final class EvalReport {
    private EvalReport() {
    }

    /**
     * The Markdown table, one row per operating point; the disagreement column is the mean
     * {@link FullModelLoss} against the first row (VE: answers changed; captioning: 1 - ROUGE-L F1).
     */
    public static String markdown(String task, List<EvalRow> rows) {
        boolean ve = task.equals("ve");
        StringBuilder sb = new StringBuilder();
        sb.append(ve ? "| model | VE accuracy | % of full | answers changed vs full | expected time (layers) | expected time (FLOPs) | measured time |\n"
                + "|---|---|---|---|---|---|---|\n"
                : "| model | CIDEr-D | BLEU-4 | % of full CIDEr | 1 - ROUGE-L vs full | expected time (layers) | expected time (FLOPs) | measured time |\n"
                        + "|---|---|---|---|---|---|---|---|\n");
        for (EvalRow r : rows) {
            sb.append("| ").append(r.label()).append(" | ");
            if (ve) {
                sb.append(String.format(Locale.ROOT, "%.1f | %.1f%% | %.1f%%", 100 * r.quality(), r.percentOfFull(),
                        100 * r.disagreement()));
            } else {
                sb.append(String.format(Locale.ROOT, "%.1f | %.1f | %.1f%% | %.3f", 100 * r.quality(), 100 * r.bleu4(),
                        r.percentOfFull(), r.disagreement()));
            }
            sb.append(String.format(Locale.ROOT, " | %s | %s | %s |%n", reduction(r.layerReduction()),
                    reduction(r.flopReduction()), reduction(r.measuredReduction())));
        }
        return sb.toString();
    }

    /**
     * The indices of the non-dominated rows, by increasing measured time reduction: no other row
     * has at least the same quality (% of full) and at least the same measured reduction, one of
     * them strictly more.
     */
    public static List<Integer> paretoFront(List<EvalRow> rows) {
        List<Integer> order = new java.util.ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            order.add(i);
        }
        // by decreasing reduction (ties: higher quality first); a row is on the front iff its
        // quality beats every row that saves at least as much
        order.sort(java.util.Comparator.<Integer>comparingDouble(i -> -rows.get(i).measuredReduction())
                .thenComparingDouble(i -> -rows.get(i).percentOfFull()));
        List<Integer> front = new java.util.ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (int i : order) {
            if (rows.get(i).percentOfFull() > best) {
                front.add(i);
                best = rows.get(i).percentOfFull();
            }
        }
        java.util.Collections.reverse(front);
        return front;
    }

    private static String reduction(double r) {
        return Math.abs(r) < 5e-4 ? "1" : String.format(Locale.ROOT, "%+.1f%%", -100 * r);
    }

    /** Writes a PNG: % of full quality (y) against measured time reduction (x), one labelled point per row. */
    public static void plot(String task, List<EvalRow> rows, Path png) throws IOException {
        draw(task, rows, null, -1, png);
    }

    /**
     * Writes a PNG of a Pareto sweep: every row as a small grey point, the non-dominated rows
     * ({@code front}, from {@link #paretoFront}) joined by a line and labelled, and the row
     * {@code certified} (or none, -1) as a red diamond.
     */
    public static void plotPareto(String task, List<EvalRow> rows, List<Integer> front, int certified, Path png)
            throws IOException {
        draw(task, rows, front, certified, png);
    }

    private static void draw(String task, List<EvalRow> rows, List<Integer> front, int certified, Path png)
            throws IOException {
        int w = 820;
        int h = 520;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        int left = 70;
        int right = w - 30;
        int top = 40;
        int bottom = h - 60;
        double xMax = Math.max(0.1, rows.stream().mapToDouble(EvalRow::measuredReduction).max().orElse(0.1) * 1.15);
        double xMin = Math.min(0, rows.stream().mapToDouble(EvalRow::measuredReduction).min().orElse(0));
        double lowest = rows.stream().mapToDouble(EvalRow::percentOfFull).min().orElse(80);
        double highest = rows.stream().mapToDouble(EvalRow::percentOfFull).max().orElse(100);
        // a sweep spans ablations far below the full model; a Pareto grid sits near it, so its axis is tight
        double yMin = front != null ? Math.floor(lowest - 1) : Math.min(80, lowest - 2);
        double yMax = front != null ? Math.ceil(highest + 1) : Math.max(102, highest + 2);
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1.5f));
        g.drawLine(left, bottom, right, bottom);
        g.drawLine(left, top, left, bottom);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.drawString("measured time reduction", (left + right) / 2 - 70, h - 20);
        g.drawString("% of full " + (task.equals("ve") ? "accuracy" : "CIDEr-D"), 10, top - 15);
        g.drawString(String.format(Locale.ROOT, "%.0f%%", 100 * xMin), left - 5, bottom + 18);
        g.drawString(String.format(Locale.ROOT, "%.0f%%", 100 * xMax), right - 30, bottom + 18);
        g.drawString(String.format(Locale.ROOT, "%.0f", yMax), left - 35, top + 5);
        g.drawString(String.format(Locale.ROOT, "%.0f", yMin), left - 35, bottom);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        int[] xs = new int[rows.size()];
        int[] ys = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            xs[i] = left + (int) ((rows.get(i).measuredReduction() - xMin) / (xMax - xMin) * (right - left));
            ys[i] = bottom - (int) ((rows.get(i).percentOfFull() - yMin) / (yMax - yMin) * (bottom - top));
        }
        if (front != null) {
            g.setColor(new Color(40, 90, 200));
            for (int k = 1; k < front.size(); k++) {
                g.drawLine(xs[front.get(k - 1)], ys[front.get(k - 1)], xs[front.get(k)], ys[front.get(k)]);
            }
        }
        for (int i = 0; i < rows.size(); i++) {
            EvalRow r = rows.get(i);
            boolean onFront = front == null || front.contains(i);
            if (i == certified) {
                g.setColor(new Color(210, 30, 30));
                g.fillPolygon(new int[] {xs[i], xs[i] + 8, xs[i], xs[i] - 8}, new int[] {ys[i] - 8, ys[i], ys[i] + 8, ys[i]}, 4);
            } else if (onFront) {
                g.setColor(r.label().startsWith("w/o") ? new Color(200, 80, 40) : new Color(40, 90, 200));
                g.fillOval(xs[i] - 5, ys[i] - 5, 10, 10);
            } else {
                g.setColor(Color.LIGHT_GRAY);
                g.fillOval(xs[i] - 3, ys[i] - 3, 6, 6);
            }
            if (onFront || i == certified) {
                g.setColor(i == certified ? new Color(210, 30, 30) : Color.DARK_GRAY);
                g.drawString(r.label(), Math.min(xs[i] + 8, right - 260), ys[i] - 6 - (i % 2) * 12);
            }
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }
}
