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

    /** The Markdown table, one row per operating point. */
    public static String markdown(String task, List<EvalRow> rows) {
        boolean ve = task.equals("ve");
        StringBuilder sb = new StringBuilder();
        sb.append(ve ? "| model | VE accuracy | % of full | expected time (layers) | expected time (FLOPs) | measured time |\n"
                + "|---|---|---|---|---|---|\n"
                : "| model | CIDEr-D | BLEU-4 | % of full CIDEr | expected time (layers) | expected time (FLOPs) | measured time |\n"
                        + "|---|---|---|---|---|---|---|\n");
        for (EvalRow r : rows) {
            sb.append("| ").append(r.label()).append(" | ");
            if (ve) {
                sb.append(String.format(Locale.ROOT, "%.1f", 100 * r.quality()));
            } else {
                sb.append(String.format(Locale.ROOT, "%.1f | %.1f", 100 * r.quality(), 100 * r.bleu4()));
            }
            sb.append(String.format(Locale.ROOT, " | %.1f%% | %s | %s | %s |%n", r.percentOfFull(),
                    reduction(r.layerReduction()), reduction(r.flopReduction()), reduction(r.measuredReduction())));
        }
        return sb.toString();
    }

    private static String reduction(double r) {
        return Math.abs(r) < 5e-4 ? "1" : String.format(Locale.ROOT, "%+.1f%%", -100 * r);
    }

    /** Writes a PNG: % of full quality (y) against measured time reduction (x), one labelled point per row. */
    public static void plot(String task, List<EvalRow> rows, Path png) throws IOException {
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
        double yMin = Math.min(80, rows.stream().mapToDouble(EvalRow::percentOfFull).min().orElse(80) - 2);
        double yMax = Math.max(102, rows.stream().mapToDouble(EvalRow::percentOfFull).max().orElse(100) + 2);
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
        for (int i = 0; i < rows.size(); i++) {
            EvalRow r = rows.get(i);
            int x = left + (int) ((r.measuredReduction() - xMin) / (xMax - xMin) * (right - left));
            int y = bottom - (int) ((r.percentOfFull() - yMin) / (yMax - yMin) * (bottom - top));
            g.setColor(r.label().startsWith("w/o") ? new Color(200, 80, 40) : new Color(40, 90, 200));
            g.fillOval(x - 5, y - 5, 10, 10);
            g.setColor(Color.DARK_GRAY);
            g.drawString(r.label(), Math.min(x + 8, right - 260), y - 6 - (i % 2) * 12);
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }
}
