package dev.mue.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.ModelFormatException;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    private static void idx(Path f, int[] dims, byte[] data, boolean truncate) throws IOException {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(f)); DataOutputStream d = new DataOutputStream(o)) {
            d.writeInt(0x0800 | dims.length);
            for (int x : dims) {
                d.writeInt(x);
            }
            d.write(data, 0, truncate ? data.length / 2 : data.length);
        }
    }

    /** A small but complete dataset in the real file format: 12 training and 6 test images. */
    private static Path dataset(Path dir, int train) throws IOException {
        byte[] px = new byte[train * 28 * 28];
        byte[] lb = new byte[train];
        for (int i = 0; i < train; i++) {
            lb[i] = (byte) (i % 10);
            for (int k = 0; k < 28 * 28; k++) {
                px[i * 784 + k] = (byte) ((i * 31 + k) % 256);
            }
        }
        idx(dir.resolve("train-images-idx3-ubyte.gz"), new int[] {train, 28, 28}, px, false);
        idx(dir.resolve("train-labels-idx1-ubyte.gz"), new int[] {train}, lb, false);
        idx(dir.resolve("t10k-images-idx3-ubyte.gz"), new int[] {6, 28, 28}, java.util.Arrays.copyOf(px, 6 * 784), false);
        idx(dir.resolve("t10k-labels-idx1-ubyte.gz"), new int[] {6}, java.util.Arrays.copyOf(lb, 6), false);
        return dir;
    }

    @Test
    void readsIdxFilesAndRejectsDefects(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("x.gz");
        idx(f, new int[] {2, 3}, new byte[] {1, 2, 3, 4, 5, (byte) 200}, false);
        IdxFile x = IdxFile.read(f);
        assertArrayEquals(new int[] {2, 3}, x.dims());
        assertEquals(200, x.at(5));
        idx(f, new int[] {2, 3}, new byte[] {1, 2, 3, 4, 5, 6}, true);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> IdxFile.read(f));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        idx(f, new int[] {60000, 60000, 60000}, new byte[0], false);
        e = assertThrows(ModelFormatException.class, () -> IdxFile.read(f));
        assertTrue(e.getMessage().contains("more than"), e.getMessage());
        Path raw = dir.resolve("x.idx");
        Files.write(raw, new byte[] {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
        e = assertThrows(ModelFormatException.class, () -> IdxFile.read(raw));
        assertTrue(e.getMessage().contains("not an unsigned-byte IDX"), e.getMessage());
    }

    @Test
    void splitsKeepTheOfficialSeparation(@TempDir Path dir) throws IOException {
        FashionMnist m = FashionMnist.load(dataset(dir, 5012));
        assertEquals(12, m.train().size());
        assertEquals(FashionMnist.VALIDATION, m.validation().size());
        assertEquals(6, m.test().size());
        assertEquals(2, m.validation().label(0), "validation starts at training image 12 (label 12 % 10)");
        assertThrows(ModelFormatException.class, () -> FashionMnist.load(dir.resolve("missing")));
    }

    @Test
    void tasksAreDeterministicBalancedAndRenderTheItems(@TempDir Path dir) throws IOException {
        FashionMnist m = FashionMnist.load(dataset(dir, 5012));
        GridTasks t = new GridTasks(m.train());
        List<GridTasks.EntailmentExample> ve = t.entailments(7, 30);
        assertEquals(ve, new GridTasks(m.train()).entailments(7, 30));
        assertEquals(10, ve.stream().filter(v -> v.answer().equals("maybe")).count());
        for (GridTasks.EntailmentExample v : ve) {
            int[] cls = t.classes(v.grid());
            Set<String> present = new HashSet<>();
            for (int c : cls) {
                present.add(FashionMnist.CLASSES.get(c));
            }
            String h = v.hypothesis();
            switch (v.answer()) {
                case "yes" -> assertTrue(present.stream().anyMatch(h::contains), h + " names an item present");
                case "maybe" -> assertTrue(h.startsWith("the ") && h.matches(".* is [a-z]+"), h);
                default -> assertTrue(h.startsWith("there "), h);
            }
        }
        GridTasks.Grid g = new GridTasks.Grid(new int[] {0, 1, 1, 8});
        assertEquals("a t-shirt, two trousers and a bag", t.caption(g));
        var img = t.render(g);
        assertEquals(64, img.getWidth());
        assertEquals(m.train().pixel(1, 5, 7), img.getRaster().getSample(32 + 2 + 7, 2 + 5, 0));
    }
}
