package dev.mue.train.data;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Visual-entailment and captioning tasks built deterministically from a dataset split: each image
 * is a 2 x 2 grid of items (cells of {@value #CELL} px, item centred) and its texts come from
 * templates over the items' classes.
 *
 * <ul>
 *   <li><b>Captioning</b>: the items counted by class in reading order, e.g. "a bag, two sneakers
 *       and a dress".</li>
 *   <li><b>Visual entailment</b> (SNLI-VE style, balanced over the three labels): entailed ("there
 *       is a bag", "there are two sneakers" when there are exactly two), contradicted ("there is a
 *       coat" when there is none, "there are two bags" when there is one) or undecidable from a
 *       grayscale image ("the bag is red").</li>
 * </ul>
 * The same seed and split always give the same examples; images of different splits never mix.
 */
public final class GridTasks {
    /** Cell side in pixels; the grid image is {@code 2 * CELL} square. */
    public static final int CELL = 32;
    /** Grid side in cells. */
    public static final int GRID = 2;
    private static final String[] COUNTS = {"no", "a", "two", "three", "four"};
    private static final String[] COLOURS = {"red", "blue", "green", "yellow", "pink", "orange"};

    private final FashionMnist.Split split;

    /** Tasks over the images of {@code split}. */
    public GridTasks(FashionMnist.Split split) {
        this.split = split;
    }

    /**
     * One grid: the dataset indices of its four items in reading order.
     *
     * @param items image indices into the split
     */
    public record Grid(int[] items) {
        /** Copies the indices. */
        public Grid {
            items = items.clone();
        }

        @Override
        public int[] items() {
            return items.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Grid g && java.util.Arrays.equals(items, g.items);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(items);
        }

        @Override
        public String toString() {
            return "Grid" + java.util.Arrays.toString(items);
        }
    }

    /** A captioning example: a grid and its reference caption. */
    public record CaptionExample(Grid grid, String caption) {
    }

    /** A visual-entailment example: a grid, a hypothesis and the answer (yes, no or maybe). */
    public record EntailmentExample(Grid grid, String hypothesis, String answer) {
    }

    /** The {@code i}-th grid of the stream seeded with {@code seed}. */
    public Grid grid(long seed, int i) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + i);
        int[] items = new int[GRID * GRID];
        for (int k = 0; k < items.length; k++) {
            items[k] = r.nextInt(split.size());
        }
        return new Grid(items);
    }

    /** The classes of a grid's items in reading order. */
    public int[] classes(Grid g) {
        int[] c = new int[g.items().length];
        for (int k = 0; k < c.length; k++) {
            c[k] = split.label(g.items()[k]);
        }
        return c;
    }

    /** Renders a grid as a grayscale image, items bright on black as in Fashion-MNIST. */
    public BufferedImage render(Grid g) {
        BufferedImage img = new BufferedImage(GRID * CELL, GRID * CELL, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster raster = img.getRaster();
        int margin = (CELL - FashionMnist.SIDE) / 2;
        for (int k = 0; k < g.items().length; k++) {
            int ox = (k % GRID) * CELL + margin;
            int oy = (k / GRID) * CELL + margin;
            for (int y = 0; y < FashionMnist.SIDE; y++) {
                for (int x = 0; x < FashionMnist.SIDE; x++) {
                    raster.setSample(ox + x, oy + y, 0, split.pixel(g.items()[k], y, x));
                }
            }
        }
        return img;
    }

    /** The reference caption of a grid. */
    public String caption(Grid g) {
        Map<Integer, Integer> counts = new LinkedHashMap<>();
        for (int c : classes(g)) {
            counts.merge(c, 1, Integer::sum);
        }
        List<String> parts = new ArrayList<>();
        counts.forEach((c, n) -> parts.add(COUNTS[n] + " " + noun(c, n)));
        if (parts.size() == 1) {
            return parts.get(0);
        }
        return String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.get(parts.size() - 1);
    }

    /** {@code count} captioning examples. */
    public List<CaptionExample> captions(long seed, int count) {
        List<CaptionExample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Grid g = grid(seed, i);
            out.add(new CaptionExample(g, caption(g)));
        }
        return out;
    }

    /** {@code count} entailment examples, the answers cycling yes, no, maybe. */
    public List<EntailmentExample> entailments(long seed, int count) {
        List<EntailmentExample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(entailment(seed, i));
        }
        return out;
    }

    /** The {@code i}-th entailment example of the stream seeded with {@code seed}; answers cycle yes, no, maybe. */
    public EntailmentExample entailment(long seed, int i) {
        Grid g = grid(seed, i);
        SplittableRandom r = new SplittableRandom(seed ^ (0x5DEECE66DL * (i + 1)));
        String answer = switch (i % 3) {
            case 0 -> "yes";
            case 1 -> "no";
            default -> "maybe";
        };
        return new EntailmentExample(g, hypothesis(g, answer, r), answer);
    }

    private String hypothesis(Grid g, String answer, SplittableRandom r) {
        int[] cls = classes(g);
        int[] counts = new int[FashionMnist.CLASSES.size()];
        for (int c : cls) {
            counts[c]++;
        }
        List<Integer> present = new ArrayList<>();
        List<Integer> absent = new ArrayList<>();
        for (int c = 0; c < counts.length; c++) {
            (counts[c] > 0 ? present : absent).add(c);
        }
        int p = present.get(r.nextInt(present.size()));
        return switch (answer) {
            case "yes" -> counts[p] >= 2 && r.nextBoolean()
                    ? "there are " + COUNTS[counts[p]] + " " + noun(p, counts[p])
                    : "there is a " + noun(p, 1);
            // one more than there are; with four of a kind (no fifth cell) an absent class instead
            case "no" -> (r.nextBoolean() || absent.isEmpty()) && counts[p] < GRID * GRID
                    ? "there are " + COUNTS[Math.min(4, counts[p] + 1)] + " " + noun(p, 2)
                    : "there is a " + noun(absent.get(r.nextInt(absent.size())), 1);
            default -> "the " + noun(p, 1) + " is " + COLOURS[r.nextInt(COLOURS.length)];
        };
    }

    /**
     * Every phrase the templates can produce, each at least once: the counted items of captions
     * ("two bags", joined with commas and "and") and every hypothesis form. A vocabulary built
     * from it covers every caption and hypothesis of every split.
     */
    public static List<String> templateCorpus() {
        List<String> out = new ArrayList<>();
        int classes = FashionMnist.CLASSES.size();
        for (int c = 0; c < classes; c++) {
            List<String> counted = new ArrayList<>();
            for (int n = 1; n < COUNTS.length; n++) {
                counted.add(COUNTS[n] + " " + noun(c, n));
                if (n >= 2) {
                    out.add("there are " + COUNTS[n] + " " + noun(c, n));
                }
            }
            out.add(String.join(", ", counted.subList(0, counted.size() - 1)) + " and " + counted.get(counted.size() - 1));
            out.add("there is a " + noun(c, 1));
            for (String colour : COLOURS) {
                out.add("the " + noun(c, 1) + " is " + colour);
            }
        }
        return out;
    }

    /** The class name, pluralised for {@code n != 1}. */
    static String noun(int c, int n) {
        String s = FashionMnist.CLASSES.get(c);
        if (n == 1) {
            return s;
        }
        return s.equals("dress") ? "dresses" : s + "s";
    }
}
