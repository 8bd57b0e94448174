package dev.mue.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every entailment label and caption of the real grid tasks checked by an independent reading of
 * the sentence against the grid's classes, over thousands of examples of each split, including
 * grids with four items of one class (where "one more than there are" has no fifth cell).
 */
class GridTasksLabelTest {
    private static final Pattern THERE_IS = Pattern.compile("there is a (.+)");
    private static final Pattern THERE_ARE = Pattern.compile("there are (two|three|four) (.+)");
    private static final Pattern COLOUR = Pattern.compile("the (.+) is (red|blue|green|yellow|pink|orange)");
    private static final List<String> NUMBERS = List.of("no", "a", "two", "three", "four");

    @Test
    void everyLabelFollowsFromTheGridAndTheThreeLabelsAreBalanced() {
        FashionMnist data = FashionMnist.load();
        for (FashionMnist.Split split : List.of(data.train(), data.validation(), data.test())) {
            GridTasks tasks = new GridTasks(split);
            Map<String, Integer> answers = new HashMap<>();
            for (var e : tasks.entailments(42, 6000)) {
                assertEquals(expected(tasks.classes(e.grid()), e.hypothesis()), e.answer(),
                        split.name() + ": '" + e.hypothesis() + "' on " + classNames(tasks.classes(e.grid())));
                answers.merge(e.answer(), 1, Integer::sum);
            }
            assertEquals(Map.of("yes", 2000, "no", 2000, "maybe", 2000), answers);
        }
    }

    @Test
    void fourOfAKindGetsATrueContradiction() {
        GridTasks tasks = new GridTasks(FashionMnist.load().test());
        int found = 0;
        for (int i = 1; i < 300_000 && found < 20; i += 3) { // answers cycle yes, no, maybe: i % 3 == 1 is "no"
            GridTasks.Grid g = tasks.grid(9, i);
            int[] c = tasks.classes(g);
            if (c[0] == c[1] && c[1] == c[2] && c[2] == c[3]) {
                var e = tasks.entailment(9, i);
                assertEquals("no", e.answer());
                assertEquals("no", expected(c, e.hypothesis()), e.hypothesis());
                found++;
            }
        }
        assertTrue(found >= 20, "only " + found + " four-of-a-kind grids");
    }

    @Test
    void captionsCountEveryClassInReadingOrder() {
        GridTasks tasks = new GridTasks(FashionMnist.load().test());
        for (var e : tasks.captions(5, 2000)) {
            int[] c = tasks.classes(e.grid());
            int total = 0;
            int at = -1;
            for (String part : e.caption().split(", | and ")) {
                String[] w = part.split(" ", 2);
                int n = NUMBERS.indexOf(w[0]);
                int cls = classOf(w[1]);
                int first = firstIndex(c, cls);
                assertTrue(first > at, "reading order in '" + e.caption() + "'");
                at = first;
                assertEquals(count(c, cls), n, e.caption());
                total += n;
            }
            assertEquals(4, total, e.caption());
        }
    }

    /** The label a careful reader gives: entailed, contradicted, or not decidable from a grayscale image. */
    static String expected(int[] classes, String h) {
        Matcher m;
        if ((m = COLOUR.matcher(h)).matches()) {
            return count(classes, classOf(m.group(1))) > 0 ? "maybe" : "no";
        }
        if ((m = THERE_ARE.matcher(h)).matches()) {
            return count(classes, classOf(m.group(2))) == NUMBERS.indexOf(m.group(1)) ? "yes" : "no";
        }
        if ((m = THERE_IS.matcher(h)).matches()) {
            return count(classes, classOf(m.group(1))) > 0 ? "yes" : "no";
        }
        return fail("unknown hypothesis form: " + h);
    }

    private static int classOf(String noun) {
        for (int c = 0; c < FashionMnist.CLASSES.size(); c++) {
            if (noun.equals(GridTasks.noun(c, 1)) || noun.equals(GridTasks.noun(c, 2))) {
                return c;
            }
        }
        return fail("unknown noun " + noun);
    }

    private static int count(int[] classes, int c) {
        int n = 0;
        for (int x : classes) {
            n += x == c ? 1 : 0;
        }
        return n;
    }

    private static int firstIndex(int[] classes, int c) {
        for (int i = 0; i < classes.length; i++) {
            if (classes[i] == c) {
                return i;
            }
        }
        return -1;
    }

    private static String classNames(int[] classes) {
        StringBuilder b = new StringBuilder();
        for (int c : classes) {
            b.append(FashionMnist.CLASSES.get(c)).append(' ');
        }
        return b.toString().strip();
    }
}
