package dev.mue.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EntailmentResultTest {

    @Test
    void mapsKeepTheCandidatesOrderAndCannotBeChanged() {
        // Map.copyOf iterates in an order salted per JVM run: most runs would not give yes, no, maybe.
        Map<String, Double> lp = new LinkedHashMap<>();
        lp.put("yes", -0.1);
        lp.put("no", -2.0);
        lp.put("maybe", -3.0);
        ExitTrace t = new ExitTrace(List.of(), List.of(), 1, 1, 0, 0, 0);
        EntailmentResult r = new EntailmentResult("yes", lp, lp, t);
        assertEquals(List.of("yes", "no", "maybe"), List.copyOf(r.logProbs().keySet()));
        assertEquals(List.of("yes", "no", "maybe"), List.copyOf(r.probabilities().keySet()));
        lp.put("other", 0.0);
        assertEquals(3, r.logProbs().size());
        assertThrows(UnsupportedOperationException.class, () -> r.logProbs().put("x", 1.0));
    }
}
