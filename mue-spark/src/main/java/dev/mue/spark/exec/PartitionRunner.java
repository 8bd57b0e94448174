package dev.mue.spark.exec;

import dev.mue.api.EntailmentResult;
import dev.mue.api.GenerationResult;
import dev.mue.api.InvalidInputException;
import dev.mue.api.MueException;
import dev.mue.api.policy.Task;
import dev.mue.session.MueSession;
import dev.mue.session.image.ImagePreprocessor;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Runs one partition: takes its rows {@link JobSpec#batchSize()} at a time, checks and decodes each
 * row on its own, sends the good ones through the session's batch path ({@code captionImages},
 * {@code entailImages}: per-example exits with batch compaction) and appends the result columns
 * ({@link ResultColumns}) to every row, in input order.
 *
 * <p>A bad row never costs the others their result: a row whose image is missing or does not
 * decode, or whose hypothesis is null, gets its error before the batch runs; a batch that fails
 * (e.g. a hypothesis over the text limit, which only the session checks) is run again in halves,
 * down to single rows, so that only the rows that fail alone get an error. With
 * {@link JobSpec#failFast()} the first bad row throws a {@link RowFailedException} instead.
 *
 * <p>The session comes from {@link ExecutorSessions} when the partition's first batch runs (an
 * empty partition never asks for one): one per executor JVM, never serialised with this function
 * (only the {@link JobSpec} is).
 */
public final class PartitionRunner implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    /** Longest hypothesis quoted in a row's name, in characters. */
    private static final int QUOTE_LIMIT = 60;

    private final JobSpec spec;
    private final int image;
    private final boolean imageBytes;
    private final int name;
    private final int hypothesis;
    private final int premise;

    /**
     * A runner for rows of {@code input}'s schema.
     *
     * @throws InvalidInputException when a column is missing or of the wrong type
     */
    public PartitionRunner(JobSpec spec, StructType input) {
        this.spec = spec;
        this.image = column(input, spec.imageColumn(), "image", DataTypes.StringType, DataTypes.BinaryType);
        this.imageBytes = input.fields()[image].dataType().equals(DataTypes.BinaryType);
        this.name = spec.nameColumn() == null ? -1
                : column(input, spec.nameColumn(), "name", DataTypes.StringType);
        this.hypothesis = spec.hypothesisColumn() == null ? -1
                : column(input, spec.hypothesisColumn(), "hypothesis", DataTypes.StringType);
        this.premise = spec.premiseColumn() == null ? -1
                : column(input, spec.premiseColumn(), "premise", DataTypes.StringType);
    }

    private static int column(StructType schema, String column, String role, DataType... types) {
        if (!Arrays.asList(schema.fieldNames()).contains(column)) {
            throw new InvalidInputException("the " + role + " column '" + column + "' is not in the input; its columns: "
                    + String.join(", ", schema.fieldNames()));
        }
        int i = schema.fieldIndex(column);
        DataType t = schema.fields()[i].dataType();
        if (!Arrays.asList(types).contains(t)) {
            throw new InvalidInputException("the " + role + " column '" + column + "' is " + t.simpleString()
                    + ", expected " + String.join(" or ", Arrays.stream(types).map(DataType::simpleString).toList()));
        }
        return i;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        return new Batches(rows);
    }

    /** The partition's output, computed one batch at a time as it is consumed. */
    private final class Batches implements Iterator<Row> {
        private final Iterator<Row> in;
        private final ArrayDeque<Row> out = new ArrayDeque<>();
        private MueSession session;

        Batches(Iterator<Row> in) {
            this.in = in;
        }

        @Override
        public boolean hasNext() {
            while (out.isEmpty() && in.hasNext()) {
                List<Row> batch = new ArrayList<>(spec.batchSize());
                while (batch.size() < spec.batchSize() && in.hasNext()) {
                    batch.add(in.next());
                }
                run(batch);
            }
            return !out.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return out.poll();
        }

        private void run(List<Row> rows) {
            if (session == null) {
                // Before the clock starts: the first task on an executor opens the session here.
                session = ExecutorSessions.get(spec.session());
            }
            long t0 = System.nanoTime();
            int n = rows.size();
            BufferedImage[] images = new BufferedImage[n];
            String[] errors = new String[n];
            Object[] results = new Object[n];
            List<Integer> good = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                try {
                    images[i] = readImage(rows.get(i));
                    if (hypothesis >= 0 && rows.get(i).isNullAt(hypothesis)) {
                        throw new InvalidInputException("the hypothesis column '" + spec.hypothesisColumn() + "' is null");
                    }
                    good.add(i);
                } catch (RuntimeException e) {
                    errors[i] = failed(rows.get(i), e);
                }
            }
            if (!good.isEmpty()) {
                infer(rows, images, good, results, errors);
            }
            double ms = (System.nanoTime() - t0) / 1e6 / n;
            for (int i = 0; i < n; i++) {
                Object[] added = switch (results[i]) {
                    case GenerationResult r -> ResultColumns.caption(r, ms, n);
                    case EntailmentResult r -> ResultColumns.entailment(r, ms, n);
                    case null, default -> ResultColumns.error(errors[i], ms, n);
                };
                out.add(ResultColumns.append(rows.get(i), added));
            }
        }

        /** Runs rows {@code idx} as one batch; if it fails, each half again, down to single rows. */
        private void infer(List<Row> rows, BufferedImage[] images, List<Integer> idx, Object[] results,
                String[] errors) {
            List<BufferedImage> batch = idx.stream().map(i -> images[i]).toList();
            try {
                if (spec.task() == Task.CAPTION) {
                    List<GenerationResult> rs = session.captionImages(batch);
                    for (int k = 0; k < idx.size(); k++) {
                        results[idx.get(k)] = rs.get(k);
                    }
                } else {
                    List<String> hs = idx.stream().map(i -> rows.get(i).getString(hypothesis)).toList();
                    List<String> ps = premise < 0 ? null
                            : idx.stream().map(i -> rows.get(i).isNullAt(premise) ? null : rows.get(i).getString(premise))
                                    .toList();
                    List<EntailmentResult> rs = session.entailImages(batch, hs, ps);
                    for (int k = 0; k < idx.size(); k++) {
                        results[idx.get(k)] = rs.get(k);
                    }
                }
            } catch (RuntimeException e) {
                if (idx.size() == 1) {
                    errors[idx.get(0)] = failed(rows.get(idx.get(0)), e);
                    return;
                }
                int half = idx.size() / 2;
                infer(rows, images, idx.subList(0, half), results, errors);
                infer(rows, images, idx.subList(half, idx.size()), results, errors);
            }
        }
    }

    /** The row's image, decoded and checked ({@link ImagePreprocessor#read}/{@link ImagePreprocessor#decode}). */
    private BufferedImage readImage(Row row) {
        if (row.isNullAt(image)) {
            throw new InvalidInputException("the image column '" + spec.imageColumn() + "' is null");
        }
        if (imageBytes) {
            return ImagePreprocessor.decode((byte[]) row.get(image), imageName(row));
        }
        return ImagePreprocessor.read(localPath(row.getString(image)));
    }

    /**
     * A path string as a local path: a plain path, or a {@code file:} URI as Hadoop writes them
     * ({@code binaryFile}'s {@code path} column: {@code file:/dir/a b.png}, not percent-encoded).
     * Other file systems are Spark's to read: their files come in as bytes through the
     * {@code binaryFile} source.
     */
    static Path localPath(String s) {
        if (s.startsWith("file:")) {
            String p = s.substring("file:".length());
            if (p.startsWith("//")) {
                int slash = p.indexOf('/', 2);
                p = slash < 0 ? "/" : p.substring(slash);
            }
            return Path.of(p);
        }
        int colon = s.indexOf(':');
        if (colon > 1 && s.indexOf('/') > colon && s.substring(0, colon).chars().allMatch(
                c -> Character.isLetterOrDigit(c) || c == '+' || c == '-' || c == '.')) {
            throw new InvalidInputException("image path " + s + " is not on a local file system; read such images"
                    + " with Spark's binaryFile source and pass its content column");
        }
        return Path.of(s);
    }

    private String imageName(Row row) {
        if (name >= 0 && !row.isNullAt(name)) {
            return row.getString(name);
        }
        return "in column '" + spec.imageColumn() + "'";
    }

    /** The reason recorded for a bad row, or, fail-fast, the exception that ends the task. */
    private String failed(Row row, RuntimeException e) {
        String reason = e instanceof MueException ? e.getMessage() : e.getClass().getSimpleName() + ": " + e.getMessage();
        if (spec.failFast()) {
            throw new RowFailedException("row " + describe(row) + ": " + reason, e);
        }
        return reason;
    }

    /** The row as messages name it: its image and, for entailment, its hypothesis. */
    private String describe(Row row) {
        String img = imageBytes ? imageName(row) : String.valueOf(row.get(image));
        if (hypothesis < 0) {
            return "image " + img;
        }
        String h = String.valueOf(row.get(hypothesis));
        if (h.length() > QUOTE_LIMIT) {
            h = h.substring(0, QUOTE_LIMIT) + "...";
        }
        return "image " + img + ", hypothesis \"" + h + "\"";
    }
}
