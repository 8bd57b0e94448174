package dev.mue.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.geom.GeneralPath;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Draws the sample images in {@code samples/}: a 2x2 grid of clothing-like shapes (shirt, shoe,
 * bag, dress) on white as PNG and JPEG, and a grayscale PNG of another arrangement.
 *
 * <p>Run once from the repository root:
 * {@code java mue-cli/src/test/java/dev/mue/cli/SampleImagesFixture.java samples}.
 */
public final class SampleImagesFixture {
    /** The repository's {@code samples} folder, seen from the module directory tests run in. */
    static final Path SAMPLES = Path.of("..", "samples");
    /** Side of every sample, in pixels. */
    public static final int SIZE = 112;

    private SampleImagesFixture() {
    }

    /** Writes grid.png, grid.jpg and gray.png into {@code args[0]} (default {@code samples}). */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "samples");
        Files.createDirectories(dir);
        BufferedImage grid = grid();
        write(grid, "png", dir.resolve("grid.png"));
        BufferedImage rgb = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        rgb.getGraphics().drawImage(grid, 0, 0, null);
        write(rgb, "jpg", dir.resolve("grid.jpg"));
        write(gray(), "png", dir.resolve("gray.png"));
    }

    private static void write(BufferedImage image, String format, Path file) throws IOException {
        if (!ImageIO.write(image, format, file.toFile())) {
            throw new IOException("no ImageIO writer for " + format);
        }
        System.out.println("wrote " + file + " (" + Files.size(file) + " bytes)");
    }

    /** The 2x2 grid: shirt, shoe / bag, dress, in colour on white. */
    static BufferedImage grid() {
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        int h = SIZE / 2;
        shirt(g, 0, 0, new Color(30, 30, 35));
        shoe(g, h, 0, new Color(200, 40, 40));
        bag(g, 0, h, new Color(40, 80, 190));
        dress(g, h, h, new Color(40, 150, 70));
        grid(g);
        g.dispose();
        return img;
    }

    /** A grayscale arrangement: two shirts and a dress, and a boot. */
    static BufferedImage gray() {
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = canvas(img);
        int h = SIZE / 2;
        shirt(g, 0, 0, new Color(60, 60, 60));
        shirt(g, h, 0, new Color(140, 140, 140));
        dress(g, 0, h, new Color(90, 90, 90));
        shoe(g, h, h, new Color(20, 20, 20));
        g.dispose();
        return img;
    }

    private static Graphics2D canvas(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        return g;
    }

    private static void grid(Graphics2D g) {
        g.setColor(new Color(220, 220, 220));
        g.setStroke(new BasicStroke(1f));
        g.drawLine(SIZE / 2, 0, SIZE / 2, SIZE);
        g.drawLine(0, SIZE / 2, SIZE, SIZE / 2);
    }

    private static void shirt(Graphics2D g, int x, int y, Color c) {
        g.setColor(c);
        Polygon p = new Polygon();
        int[][] pts = {{18, 8}, {24, 12}, {32, 12}, {38, 8}, {50, 18}, {44, 26}, {40, 22}, {40, 48}, {16, 48},
            {16, 22}, {12, 26}, {6, 18}};
        for (int[] q : pts) {
            p.addPoint(x + q[0], y + q[1]);
        }
        g.fillPolygon(p);
    }

    private static void shoe(Graphics2D g, int x, int y, Color c) {
        g.setColor(c);
        GeneralPath s = new GeneralPath();
        s.moveTo(x + 8, y + 18);
        s.lineTo(x + 20, y + 18);
        s.curveTo(x + 24, y + 28, x + 34, y + 30, x + 46, y + 34);
        s.curveTo(x + 52, y + 36, x + 52, y + 42, x + 48, y + 42);
        s.lineTo(x + 8, y + 42);
        s.closePath();
        g.fill(s);
        g.setColor(c.darker());
        g.fillRect(x + 8, y + 42, 42, 4);
    }

    private static void bag(Graphics2D g, int x, int y, Color c) {
        g.setColor(c);
        g.fillRoundRect(x + 10, y + 20, 36, 28, 6, 6);
        g.setStroke(new BasicStroke(3f));
        g.drawArc(x + 18, y + 8, 20, 22, 0, 180);
    }

    private static void dress(Graphics2D g, int x, int y, Color c) {
        g.setColor(c);
        Polygon p = new Polygon();
        int[][] pts = {{22, 6}, {34, 6}, {34, 14}, {38, 24}, {48, 50}, {8, 50}, {18, 24}, {22, 14}};
        for (int[] q : pts) {
            p.addPoint(x + q[0], y + q[1]);
        }
        g.fillPolygon(p);
    }
}
