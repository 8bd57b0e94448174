package dev.mue.serve.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The Prometheus text exposition: HELP and TYPE lines, escaped labels, cumulative buckets, sum and count. */
class RegistryTest {
    @Test
    void writesTheTextFormat() {
        Registry r = new Registry();
        Registry.Family<Registry.Counter> c = r.counter("x_total", "Things.\nMore.", "model", "status");
        c.labels("cap\"tion", "200").inc();
        c.labels("cap\"tion", "200").inc(2);
        c.labels("a\\b", "503").inc();
        Registry.Family<Registry.Histogram> h = r.histogram("lat_seconds", "Latency.", new double[] {0.1, 1}, "model");
        h.labels("m").observe(0.1);
        h.labels("m").observe(0.5);
        h.labels("m").observe(7);
        r.gauge("depth", "Depth.").labels().set(() -> 4);
        assertEquals("""
                # HELP x_total Things.\\nMore.
                # TYPE x_total counter
                x_total{model="a\\\\b",status="503"} 1
                x_total{model="cap\\"tion",status="200"} 3
                # HELP lat_seconds Latency.
                # TYPE lat_seconds histogram
                lat_seconds_bucket{model="m",le="0.1"} 1
                lat_seconds_bucket{model="m",le="1"} 2
                lat_seconds_bucket{model="m",le="+Inf"} 3
                lat_seconds_sum{model="m"} 7.6
                lat_seconds_count{model="m"} 3
                # HELP depth Depth.
                # TYPE depth gauge
                depth 4
                """, r.scrape());
    }

    @Test
    void refusesWhatTheFormatForbids() {
        Registry r = new Registry();
        assertThrows(IllegalArgumentException.class, () -> r.counter("bad-name", "x"));
        assertThrows(IllegalArgumentException.class, () -> r.counter("ok", "x", "le"));
        assertThrows(IllegalArgumentException.class, () -> r.histogram("h", "x", new double[] {2, 1}));
        r.counter("twice", "x");
        assertThrows(IllegalArgumentException.class, () -> r.counter("twice", "x"));
        assertThrows(IllegalArgumentException.class, () -> r.counter("c", "x").labels().inc(-1));
    }
}
