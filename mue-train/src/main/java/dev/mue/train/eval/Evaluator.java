package dev.mue.train.eval;

import dev.mue.api.EntailmentResult;
import dev.mue.api.GenerationResult;
import dev.mue.api.Mue;
import dev.mue.api.MueSession;
import dev.mue.api.decode.DecodingOptions;
import dev.mue.api.model.Model;
import dev.mue.api.spi.BackendOptions;
import dev.mue.train.data.GridTasks;
import dev.mue.train.metrics.Bleu;
import dev.mue.train.metrics.CiderD;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a sweep of operating points over task examples on one backend and measures, per row,
 * quality, the expected time reductions from the traces, and wall-clock time.
 *
 * <p>Each row is timed over the same examples, in batches, after an untimed warm-up (the whole
 * example set before the first row, so that the JIT has compiled the kernels before anything is
 * timed; a few batches before later rows), so measured reductions are ratios taken within one run.
 */
public final class Evaluator {
    private final Model model;
    private final String backend;
    private final int threads;
    private final int batch;

    /** An evaluator of {@code model} on {@code backend} (null: automatic) in batches of {@code batch}. */
    public Evaluator(Model model, String backend, int threads, int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be positive, got " + batch);
        }
        this.model = model;
        this.backend = backend;
        this.threads = threads;
        this.batch = batch;
    }

    /** Visual entailment accuracy at every operating point; the first point must be the full model. */
    public List<EvalRow> entailment(GridTasks tasks, List<GridTasks.EntailmentExample> examples,
            List<OperatingPoint> points) {
        List<BufferedImage> images = examples.stream().map(e -> tasks.render(e.grid())).toList();
        List<String> hyps = examples.stream().map(GridTasks.EntailmentExample::hypothesis).toList();
        List<EvalRow> rows = new ArrayList<>();
        double fullQuality = Double.NaN;
        double fullSeconds = Double.NaN;
        for (OperatingPoint p : points) {
            try (MueSession s = open(p)) {
                int warm = rows.isEmpty() ? images.size() : Math.min(images.size(), 4 * batch);
                for (int i = 0; i < warm; i += batch) {
                    int j = Math.min(warm, i + batch);
                    s.entailImages(images.subList(i, j), hyps.subList(i, j), null);
                }
                long t0 = System.nanoTime();
                List<EntailmentResult> res = new ArrayList<>();
                for (int i = 0; i < images.size(); i += batch) {
                    int j = Math.min(images.size(), i + batch);
                    res.addAll(s.entailImages(images.subList(i, j), hyps.subList(i, j), null));
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                int correct = 0;
                double layer = 0;
                double flop = 0;
                for (int i = 0; i < res.size(); i++) {
                    correct += res.get(i).answer().equals(examples.get(i).answer()) ? 1 : 0;
                    layer += res.get(i).trace().layerReduction();
                    flop += res.get(i).trace().flopReduction();
                }
                double acc = (double) correct / res.size();
                if (rows.isEmpty()) {
                    fullQuality = acc;
                    fullSeconds = seconds;
                }
                rows.add(new EvalRow(p.label(), acc, Double.NaN, 100 * acc / fullQuality, layer / res.size(),
                        flop / res.size(), 1 - seconds / fullSeconds, seconds));
            }
        }
        return rows;
    }

    /** Captioning CIDEr-D and BLEU-4 at every operating point; the first point must be the full model. */
    public List<EvalRow> captioning(GridTasks tasks, List<GridTasks.CaptionExample> examples,
            List<OperatingPoint> points, DecodingOptions decoding) {
        List<BufferedImage> images = examples.stream().map(e -> tasks.render(e.grid())).toList();
        List<List<String>> refs = examples.stream().map(e -> List.of(e.caption())).toList();
        List<EvalRow> rows = new ArrayList<>();
        double fullQuality = Double.NaN;
        double fullSeconds = Double.NaN;
        for (OperatingPoint p : points) {
            try (MueSession s = open(p, decoding)) {
                int warm = rows.isEmpty() ? images.size() : Math.min(images.size(), 4 * batch);
                for (int i = 0; i < warm; i += batch) {
                    s.captionImages(images.subList(i, Math.min(warm, i + batch)));
                }
                long t0 = System.nanoTime();
                List<GenerationResult> res = new ArrayList<>();
                for (int i = 0; i < images.size(); i += batch) {
                    res.addAll(s.captionImages(images.subList(i, Math.min(images.size(), i + batch))));
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                List<String> hyps = res.stream().map(GenerationResult::text).toList();
                double cider = CiderD.corpus(hyps, refs);
                double bleu = Bleu.corpus(hyps, refs, 4);
                double layer = res.stream().mapToDouble(r -> r.trace().layerReduction()).average().orElse(0);
                double flop = res.stream().mapToDouble(r -> r.trace().flopReduction()).average().orElse(0);
                if (rows.isEmpty()) {
                    fullQuality = cider;
                    fullSeconds = seconds;
                }
                rows.add(new EvalRow(p.label(), cider, bleu, 100 * cider / fullQuality, layer, flop,
                        1 - seconds / fullSeconds, seconds));
            }
        }
        return rows;
    }

    private MueSession open(OperatingPoint p) {
        return open(p, DecodingOptions.captioning());
    }

    private MueSession open(OperatingPoint p, DecodingOptions decoding) {
        return Mue.session().model(p.model() != null ? p.model() : model).backend(backend).policy(p.policy())
                .decoding(decoding).backendOptions(BackendOptions.defaults().withThreads(threads)).open();
    }
}
