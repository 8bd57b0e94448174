package dev.mue.serve.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.regex.Pattern;

/**
 * Metric families (counters, gauges, histograms, each with labels) and their Prometheus text
 * exposition (format 0.0.4): {@code # HELP} and {@code # TYPE} lines, then one sample per label set,
 * histograms as cumulative {@code _bucket} samples with {@code le} up to {@code +Inf}, {@code _sum}
 * and {@code _count}. Thread-safe; recording is lock-free (adders).
 */
public final class Registry {
    /** Content type of {@link #scrape()}. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    private final List<Family<?>> families = new ArrayList<>();

    /** A counter family. */
    public synchronized Family<Counter> counter(String name, String help, String... labels) {
        return add(new Family<>(name, help, "counter", labels, Counter::new));
    }

    /** A histogram family with the given upper bounds (ascending; {@code +Inf} is implied). */
    public synchronized Family<Histogram> histogram(String name, String help, double[] bounds, String... labels) {
        double[] b = bounds.clone();
        for (int i = 1; i < b.length; i++) {
            if (!(b[i] > b[i - 1])) {
                throw new IllegalArgumentException("histogram " + name + " bounds must ascend: " + Arrays.toString(b));
            }
        }
        return add(new Family<>(name, help, "histogram", labels, () -> new Histogram(b)));
    }

    /** A gauge family whose samples are read when scraped. */
    public synchronized Family<Gauge> gauge(String name, String help, String... labels) {
        return add(new Family<>(name, help, "gauge", labels, Gauge::new));
    }

    private <T extends Sample> Family<T> add(Family<T> f) {
        for (Family<?> g : families) {
            if (g.name.equals(f.name)) {
                throw new IllegalArgumentException("metric " + f.name + " is registered twice");
            }
        }
        families.add(f);
        return f;
    }

    /** Every family in the text format, in registration order, each family's label sets sorted. */
    public String scrape() {
        List<Family<?>> fs;
        synchronized (this) {
            fs = List.copyOf(families);
        }
        StringBuilder out = new StringBuilder();
        for (Family<?> f : fs) {
            out.append("# HELP ").append(f.name).append(' ').append(f.help.replace("\\", "\\\\").replace("\n", "\\n"))
                    .append('\n');
            out.append("# TYPE ").append(f.name).append(' ').append(f.type).append('\n');
            for (Map.Entry<List<String>, ? extends Sample> e : f.children.entrySet()) {
                e.getValue().write(out, f.name, f.labels, e.getKey());
            }
        }
        return out.toString();
    }

    /** A metric's label sets, each with its own sample. */
    public static final class Family<T extends Sample> {
        private final String name;
        private final String help;
        private final String type;
        private final String[] labels;
        private final java.util.function.Supplier<T> factory;
        private final ConcurrentSkipListMap<List<String>, T> children = new ConcurrentSkipListMap<>(Registry::compare);

        private Family(String name, String help, String type, String[] labels, java.util.function.Supplier<T> factory) {
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("bad metric name " + name);
            }
            for (String l : labels) {
                if (!LABEL.matcher(l).matches() || l.startsWith("__") || l.equals("le")) {
                    throw new IllegalArgumentException("bad label name " + l + " of " + name);
                }
            }
            this.name = name;
            this.help = help;
            this.type = type;
            this.labels = labels.clone();
            this.factory = factory;
        }

        /** The sample for these label values (created on first use). */
        public T labels(String... values) {
            if (values.length != labels.length) {
                throw new IllegalArgumentException(name + " has labels " + Arrays.toString(labels) + ", got "
                        + Arrays.toString(values));
            }
            return children.computeIfAbsent(List.of(values), k -> factory.get());
        }
    }

    private static int compare(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    /** One label set's value(s). */
    public abstract static sealed class Sample permits Counter, Gauge, Histogram {
        abstract void write(StringBuilder out, String name, String[] labels, List<String> values);
    }

    /** A monotonic count. */
    public static final class Counter extends Sample {
        private final DoubleAdder value = new DoubleAdder();

        /** Adds one. */
        public void inc() {
            value.add(1);
        }

        /** Adds {@code amount} (not negative). */
        public void inc(double amount) {
            if (!(amount >= 0)) {
                throw new IllegalArgumentException("a counter only grows, got " + amount);
            }
            value.add(amount);
        }

        /** The count. */
        public double get() {
            return value.sum();
        }

        @Override
        void write(StringBuilder out, String name, String[] labels, List<String> values) {
            line(out, name, labels, values, null, value.sum());
        }
    }

    /** A value read when scraped. */
    public static final class Gauge extends Sample {
        private volatile DoubleSupplier source = () -> 0;

        /** Reads the value from {@code s} at every scrape. */
        public void set(DoubleSupplier s) {
            this.source = s;
        }

        /** The value now. */
        public double get() {
            return source.getAsDouble();
        }

        @Override
        void write(StringBuilder out, String name, String[] labels, List<String> values) {
            line(out, name, labels, values, null, source.getAsDouble());
        }
    }

    /** Observations counted into buckets. */
    public static final class Histogram extends Sample {
        private final double[] bounds;
        private final LongAdder[] counts;
        private final DoubleAdder sum = new DoubleAdder();

        private Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length + 1];
            for (int i = 0; i < counts.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        /** Records one observation. */
        public void observe(double v) {
            int i = Arrays.binarySearch(bounds, v);
            // a value equal to a bound belongs to that bucket (le is "less than or equal")
            counts[i >= 0 ? i : -i - 1].increment();
            sum.add(v);
        }

        /** Observations so far. */
        public long count() {
            long n = 0;
            for (LongAdder c : counts) {
                n += c.sum();
            }
            return n;
        }

        @Override
        void write(StringBuilder out, String name, String[] labels, List<String> values) {
            long cumulative = 0;
            for (int i = 0; i <= bounds.length; i++) {
                cumulative += counts[i].sum();
                line(out, name + "_bucket", labels, values, i < bounds.length ? number(bounds[i]) : "+Inf", cumulative);
            }
            line(out, name + "_sum", labels, values, null, sum.sum());
            line(out, name + "_count", labels, values, null, cumulative);
        }
    }

    private static void line(StringBuilder out, String name, String[] labels, List<String> values, String le, double v) {
        out.append(name);
        if (labels.length > 0 || le != null) {
            out.append('{');
            for (int i = 0; i < labels.length; i++) {
                out.append(i == 0 ? "" : ",").append(labels[i]).append("=\"").append(escape(values.get(i))).append('"');
            }
            if (le != null) {
                out.append(labels.length == 0 ? "" : ",").append("le=\"").append(le).append('"');
            }
            out.append('}');
        }
        out.append(' ').append(number(v)).append('\n');
    }

    private static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%s", v);
    }
}
