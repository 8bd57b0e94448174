package dev.mue.train.eval;

import dev.mue.api.EntailmentResult;
import dev.mue.api.GenerationResult;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.Model;
import dev.mue.api.spi.BackendOptions;
import dev.mue.train.data.GridTasks;
import dev.mue.train.metrics.Bleu;
import dev.mue.train.metrics.CiderD;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Runs a sweep of operating points over task examples on one backend and measures, per row,
 * quality, the expected time reductions from the traces, and wall-clock time.
 *
 * <p>Each row is timed over the same examples, in batches, after an untimed warm-up (the whole
 * example set on the first row, so that the JIT has compiled the kernels before anything is timed;
 * a few batches on later rows); with {@code repeats > 1} the rows are timed round-robin and a row's
 * time is its fastest pass, so measured reductions are ratios taken within one run under the same
 * conditions.
 */
public final class Evaluator {
    private final Model model;
    private final String backend;
    private final int threads;
    private final int batch;
    private final int repeats;
    private java.util.function.BiConsumer<Long, Long> progress = (done, total) -> { };

    /** An evaluator of {@code model} on {@code backend} (null: automatic) in batches of {@code batch}, timed once. */
    public Evaluator(Model model, String backend, int threads, int batch) {
        this(model, backend, threads, batch, 1);
    }

    /**
     * An evaluator of {@code model} on {@code backend} (null: automatic) in batches of
     * {@code batch}; each row's examples are run {@code repeats} times and the fastest pass is
     * its measured time (the results of every pass are the same; on a shared machine the minimum
     * is the least disturbed figure).
     */
    public Evaluator(Model model, String backend, int threads, int batch, int repeats) {
        if (batch < 1 || repeats < 1) {
            throw new IllegalArgumentException("batch and repeats must be positive, got " + batch + " and " + repeats);
        }
        this.model = model;
        this.backend = backend;
        this.threads = threads;
        this.batch = batch;
        this.repeats = repeats;
    }

    /**
     * Reports progress to {@code listener} after every pass over a row's examples: examples run so
     * far and in all (warm-up and timed passes of every row), e.g. for a progress bar.
     *
     * @return this evaluator
     */
    public Evaluator onProgress(java.util.function.BiConsumer<Long, Long> listener) {
        this.progress = java.util.Objects.requireNonNull(listener);
        return this;
    }

    /** Visual entailment accuracy at every operating point; the first point must be the full model. */
    public List<EvalRow> entailment(GridTasks tasks, List<GridTasks.EntailmentExample> examples,
            List<OperatingPoint> points) {
        List<BufferedImage> images = examples.stream().map(e -> tasks.render(e.grid())).toList();
        List<String> hyps = examples.stream().map(GridTasks.EntailmentExample::hypothesis).toList();
        List<Timed<EntailmentResult>> timed = interleaved(points, this::open, (s, n) -> {
            List<EntailmentResult> pass = new ArrayList<>();
            for (int i = 0; i < n; i += batch) {
                int j = Math.min(n, i + batch);
                pass.addAll(s.entailImages(images.subList(i, j), hyps.subList(i, j), null));
            }
            return pass;
        }, images.size());
        List<EvalRow> rows = new ArrayList<>();
        double fullQuality = Double.NaN;
        double fullSeconds = timed.get(0).seconds();
        for (int r = 0; r < points.size(); r++) {
            List<EntailmentResult> res = timed.get(r).results();
            double seconds = timed.get(r).seconds();
            int correct = 0;
            double layer = 0;
            double flop = 0;
            for (int i = 0; i < res.size(); i++) {
                correct += res.get(i).answer().equals(examples.get(i).answer()) ? 1 : 0;
                layer += res.get(i).trace().layerReduction();
                flop += res.get(i).trace().flopReduction();
            }
            double acc = (double) correct / res.size();
            if (r == 0) {
                fullQuality = acc;
            }
            double changed = 0;
            for (int i = 0; i < res.size(); i++) {
                changed += FullModelLoss.ve(timed.get(0).results().get(i).answer(), res.get(i).answer());
            }
            rows.add(new EvalRow(points.get(r).label(), acc, Double.NaN, 100 * acc / fullQuality, layer / res.size(),
                    flop / res.size(), 1 - seconds / fullSeconds, seconds, changed / res.size()));
        }
        return rows;
    }

    /** Captioning CIDEr-D and BLEU-4 at every operating point; the first point must be the full model. */
    public List<EvalRow> captioning(GridTasks tasks, List<GridTasks.CaptionExample> examples,
            List<OperatingPoint> points, DecodingOptions decoding) {
        List<BufferedImage> images = examples.stream().map(e -> tasks.render(e.grid())).toList();
        List<List<String>> refs = examples.stream().map(e -> List.of(e.caption())).toList();
        List<Timed<GenerationResult>> timed = interleaved(points, p -> open(p, decoding), (s, n) -> {
            List<GenerationResult> pass = new ArrayList<>();
            for (int i = 0; i < n; i += batch) {
                pass.addAll(s.captionImages(images.subList(i, Math.min(n, i + batch))));
            }
            return pass;
        }, images.size());
        List<EvalRow> rows = new ArrayList<>();
        double fullQuality = Double.NaN;
        double fullSeconds = timed.get(0).seconds();
        for (int r = 0; r < points.size(); r++) {
            List<GenerationResult> res = timed.get(r).results();
            double seconds = timed.get(r).seconds();
            List<String> hyps = res.stream().map(GenerationResult::text).toList();
            double cider = CiderD.corpus(hyps, refs);
            double bleu = Bleu.corpus(hyps, refs, 4);
            double layer = res.stream().mapToDouble(x -> x.trace().layerReduction()).average().orElse(0);
            double flop = res.stream().mapToDouble(x -> x.trace().flopReduction()).average().orElse(0);
            if (r == 0) {
                fullQuality = cider;
            }
            double loss = 0;
            for (int i = 0; i < res.size(); i++) {
                loss += FullModelLoss.caption(timed.get(0).results().get(i).text(), res.get(i).text());
            }
            rows.add(new EvalRow(points.get(r).label(), cider, bleu, 100 * cider / fullQuality, layer, flop,
                    1 - seconds / fullSeconds, seconds, loss / res.size()));
        }
        return rows;
    }

    /**
     * The per-example entailment results of every operating point, one untimed pass each, one
     * session open at a time (for calibration and sweeps that need per-example outcomes, not time).
     */
    public List<List<EntailmentResult>> entailmentResults(GridTasks tasks, List<GridTasks.EntailmentExample> examples,
            List<OperatingPoint> points) {
        List<BufferedImage> images = examples.stream().map(e -> tasks.render(e.grid())).toList();
        List<String> hyps = examples.stream().map(GridTasks.EntailmentExample::hypothesis).toList();
        List<List<EntailmentResult>> out = new ArrayList<>();
        for (OperatingPoint p : points) {
            try (MueSession s = open(p)) {
                List<EntailmentResult> pass = new ArrayList<>();
                for (int i = 0; i < images.size(); i += batch) {
                    int j = Math.min(images.size(), i + batch);
                    pass.addAll(s.entailImages(images.subList(i, j), hyps.subList(i, j), null));
                }
                out.add(pass);
            }
        }
        return out;
    }

    /** The per-example captions of every operating point, one untimed pass each, one session open at a time. */
    public List<List<GenerationResult>> captionResults(GridTasks tasks, List<GridTasks.CaptionExample> examples,
            List<OperatingPoint> points, DecodingOptions decoding) {
        List<BufferedImage> images = examples.stream().map(e -> tasks.render(e.grid())).toList();
        List<List<GenerationResult>> out = new ArrayList<>();
        for (OperatingPoint p : points) {
            try (MueSession s = open(p, decoding)) {
                List<GenerationResult> pass = new ArrayList<>();
                for (int i = 0; i < images.size(); i += batch) {
                    pass.addAll(s.captionImages(images.subList(i, Math.min(images.size(), i + batch))));
                }
                out.add(pass);
            }
        }
        return out;
    }

    /**
     * Runs every row: opens all sessions, warms up (the whole example set on the first row, so the
     * JIT has compiled the kernels before anything is timed, then a few batches on each other
     * row), then times {@link #repeats} rounds in which every row runs all {@code n} examples in
     * turn, so a slow spell of a shared machine falls on every row alike (with more than two rows,
     * the first, the reference, runs again at the end of each round). Per row: the first pass's
     * results and the fastest pass's seconds.
     */
    private <T> List<Timed<T>> interleaved(List<OperatingPoint> points, Function<OperatingPoint, MueSession> opener,
            BiFunction<MueSession, Integer, List<T>> pass, int n) {
        List<MueSession> sessions = new ArrayList<>();
        int rows = points.size();
        long total = n + (long) (rows - 1) * Math.min(n, 4 * batch)
                + (long) repeats * ((long) rows * n + (rows > 2 ? n : 0));
        long[] done = {0};
        BiFunction<MueSession, Integer, List<T>> counted = (s, k) -> {
            List<T> res = pass.apply(s, k);
            done[0] += k;
            progress.accept(done[0], total);
            return res;
        };
        try {
            for (OperatingPoint p : points) {
                sessions.add(opener.apply(p));
            }
            progress.accept(0L, total);
            for (int r = 0; r < sessions.size(); r++) {
                counted.apply(sessions.get(r), r == 0 ? n : Math.min(n, 4 * batch));
            }
            List<List<T>> results = new ArrayList<>();
            double[] best = new double[sessions.size()];
            java.util.Arrays.fill(best, Double.POSITIVE_INFINITY);
            for (int rep = 0; rep < repeats; rep++) {
                for (int r = 0; r < sessions.size(); r++) {
                    long t0 = System.nanoTime();
                    List<T> res = counted.apply(sessions.get(r), n);
                    best[r] = Math.min(best[r], (System.nanoTime() - t0) / 1e9);
                    if (rep == 0) {
                        results.add(res);
                    }
                }
                if (sessions.size() > 2) {
                    // every row is measured against the first: in a long round (a Pareto grid) the
                    // conditions drift between its start and end (JIT recompiling as later rows take
                    // new branches, load on a shared machine), so the first row is timed at both ends
                    long t0 = System.nanoTime();
                    counted.apply(sessions.get(0), n);
                    best[0] = Math.min(best[0], (System.nanoTime() - t0) / 1e9);
                }
            }
            List<Timed<T>> out = new ArrayList<>();
            for (int r = 0; r < sessions.size(); r++) {
                out.add(new Timed<>(results.get(r), best[r]));
            }
            return out;
        } finally {
            for (MueSession s : sessions) {
                s.close();
            }
        }
    }

    private record Timed<T>(List<T> results, double seconds) {
    }

    private MueSession open(OperatingPoint p) {
        return open(p, DecodingOptions.captioning());
    }

    private MueSession open(OperatingPoint p, DecodingOptions decoding) {
        return Mue.session().model(p.model() != null ? p.model() : model).backend(backend).policy(p.policy())
                .decoding(decoding).backendOptions(BackendOptions.defaults().withThreads(threads)).open();
    }
}
