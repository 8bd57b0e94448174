package dev.mue.session;

import dev.mue.api.DecoderStepTrace;
import dev.mue.api.EncoderExit;
import dev.mue.api.EntailmentResult;
import dev.mue.api.ExitTrace;
import dev.mue.api.GenerationResult;
import dev.mue.api.InvalidInputException;
import dev.mue.api.ModelFormatException;
import dev.mue.session.decode.BeamSearch;
import dev.mue.session.decode.DecodingOptions;
import dev.mue.session.decode.LogSoftmax;
import dev.mue.session.image.ImagePreprocessor;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.plan.Plan;
import dev.mue.planner.Planner;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.api.policy.Task;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.BackendOptions;
import dev.mue.api.spi.Backends;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.runtime.Runtime;
import dev.mue.runtime.Traces;
import dev.mue.runtime.Workloads;
import dev.mue.api.text.Tokenizer;
import dev.mue.api.text.Vocabulary;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An open model on a backend: captioning, visual entailment and prompted generation with MuE exits.
 *
 * <p>Captioning (and prompted generation) and visual entailment each run with their own exit
 * policy ({@link #policy(Task)} says which and where it came from); when the two policies are the
 * same they share one plan, otherwise entailment's plan is compiled and prepared on first use.
 *
 * <p>Thread-safe for concurrent calls; close it to release the backend. {@link #close()} lets the
 * calls already running finish (it blocks until they return) and refuses every call that starts
 * after it began with a {@link SessionClosedException}; nothing in flight is cancelled. Create with
 * {@link Mue#session()}.
 *
 * <p>Inputs are checked before any work: a null image, path, hypothesis or list, or a null element
 * of a list (but premises, where null means none), is an {@link InvalidInputException} naming the argument.
 */
public final class MueSession implements AutoCloseable {
    /** OFA's captioning prompt. */
    public static final String CAPTION_PROMPT = " what does the image describe?";
    /** The visual-entailment answers, in the order scores are reported. */
    public static final List<String> ENTAILMENT_ANSWERS = List.of("yes", "no", "maybe");

    private final Model model;
    private final Tokenizer tokenizer;
    /** What generation may emit: the vocabulary's text entries (OFA's captioning constraint). */
    private final java.util.BitSet textTokens;
    private final Plan plan;
    private final Backend backend;
    private final Executable executable;
    private final Map<Task, PolicyChoice> choices;
    private final PlanShapes shapes;
    private Plan entailPlan;
    private Executable entailExecutable;
    private final DecodingOptions decoding;
    private final boolean truncateText;
    private final int[][] answerTokens;
    /** Guards {@link #inFlight} and {@link #closed}: calls register here so that close can wait for them. */
    private final Object lifecycle = new Object();
    private int inFlight;
    private boolean closed;

    MueSession(Model model, Map<Task, PolicyChoice> choices, DecodingOptions decoding, PlanShapes shapes,
            String backendId, BackendOptions options, boolean truncateText) {
        this.model = model;
        this.tokenizer = model.tokenizer();
        this.textTokens = tokenizer.textTokens(model.config().vocabSize());
        this.decoding = decoding;
        this.truncateText = truncateText;
        this.choices = new EnumMap<>(choices);
        this.shapes = shapes;
        this.plan = Planner.compile(model, choices.get(Task.CAPTION).policy(), shapes);
        this.answerTokens = new int[ENTAILMENT_ANSWERS.size()][];
        for (int i = 0; i < answerTokens.length; i++) {
            answerTokens[i] = tokenizer.encode(" " + ENTAILMENT_ANSWERS.get(i));
            for (int t : answerTokens[i]) {
                if (t == Vocabulary.UNK) {
                    throw new ModelFormatException(model.source() + ": vocabulary lacks the answer token '"
                            + ENTAILMENT_ANSWERS.get(i) + "' needed for visual entailment");
                }
            }
        }
        // Without a named backend, the one estimated fastest for a caption of this model at batch 1.
        Backend b = Backends.create(backendId, Workloads.caption(plan, 1, decoding.beamSize(), decoding.maxLength()),
                options);
        try {
            this.executable = Runtime.prepare(b, plan);
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        this.backend = b;
        if (choices.get(Task.ENTAIL).policy().equals(choices.get(Task.CAPTION).policy())) {
            entailPlan = plan;
            entailExecutable = executable;
        }
    }

    /** The compiled captioning plan (entailment's too when both tasks have the same policy); see {@link #plan(Task)}. */
    public Plan plan() {
        return plan;
    }

    /** The plan {@code task} runs (entailment's is compiled and prepared here if it has not been yet). */
    public Plan plan(Task task) {
        return task == Task.CAPTION ? plan : guarded(() -> entail().plan());
    }

    /** The policy {@code task} runs with and where it came from (explicit, a file, the bundle, the paper). */
    public PolicyChoice policy(Task task) {
        return choices.get(task);
    }

    private record Compiled(Plan plan, Executable executable) {
    }

    /** Entailment's plan and executable; compiled on first use when its policy differs from captioning's. */
    private synchronized Compiled entail() {
        if (entailExecutable == null) {
            Plan p = Planner.compile(model, choices.get(Task.ENTAIL).policy(), shapes);
            entailExecutable = Runtime.prepare(backend, p);
            entailPlan = p;
        }
        return new Compiled(entailPlan, entailExecutable);
    }

    /** The model. */
    public Model model() {
        return model;
    }

    /** The backend's id. */
    public String backendId() {
        return backend.id();
    }

    /** The backend's device. */
    public String device() {
        return backend.device();
    }

    /** Captions an image file. */
    public GenerationResult caption(Path image) {
        return captionBatch(List.of(required(image, "image"))).get(0);
    }

    /** Captions an image. */
    public GenerationResult caption(BufferedImage image) {
        return captionImages(List.of(required(image, "image"))).get(0);
    }

    /** Captions several in-memory images as one batch; results are those of single calls. */
    public List<GenerationResult> captionImages(List<BufferedImage> images) {
        return guarded(() -> generateImages(preprocessAll(images), CAPTION_PROMPT));
    }

    /**
     * Visual entailment for in-memory images: one hypothesis (and optionally one premise) per image.
     *
     * @param premises null for none, else one per image
     */
    public List<EntailmentResult> entailImages(List<BufferedImage> images, List<String> hypotheses,
            List<String> premises) {
        checkEntailmentBatch(elements(images, "images").size(), hypotheses, premises);
        return guarded(() -> entailPixels(preprocessAll(images), hypotheses, premises));
    }

    private List<float[]> preprocessAll(List<BufferedImage> images) {
        if (elements(images, "images").isEmpty()) {
            throw new InvalidInputException("no images given");
        }
        List<float[]> out = new ArrayList<>();
        for (BufferedImage im : images) {
            out.add(ImagePreprocessor.preprocess(im, model.config().imageSize(), resize()));
        }
        return out;
    }

    /** Captions several image files as one batch; results are those of single calls. */
    public List<GenerationResult> captionBatch(List<Path> images) {
        return guarded(() -> generateImages(loadAll(images), CAPTION_PROMPT));
    }

    /** Generates text for an image file and a prompt (e.g. a question). */
    public GenerationResult generate(Path image, String prompt) {
        return generateBatch(List.of(required(image, "image")), prompt).get(0);
    }

    /** Generates text for several image files with one prompt, as one batch. */
    public List<GenerationResult> generateBatch(List<Path> images, String prompt) {
        required(prompt, "prompt");
        return guarded(() -> generateImages(loadAll(images), prompt));
    }

    /** Decides whether an image entails a hypothesis. */
    public EntailmentResult entail(Path image, String hypothesis) {
        return entail(image, hypothesis, null);
    }

    /** Decides whether an image and a premise text (null for none) entail a hypothesis. */
    public EntailmentResult entail(Path image, String hypothesis, String premise) {
        return entailBatch(List.of(required(image, "image")), List.of(required(hypothesis, "hypothesis")),
                premise == null ? null : List.of(premise)).get(0);
    }

    /**
     * Visual entailment for a batch: one hypothesis (and optionally one premise) per image.
     *
     * @param premises null for none, else one per image
     */
    public List<EntailmentResult> entailBatch(List<Path> images, List<String> hypotheses, List<String> premises) {
        checkEntailmentBatch(elements(images, "images").size(), hypotheses, premises);
        return guarded(() -> entailPixels(loadAll(images), hypotheses, premises));
    }

    private static void checkEntailmentBatch(int images, List<String> hypotheses, List<String> premises) {
        elements(hypotheses, "hypotheses"); // a premise may be null: that example has none

        if (images != hypotheses.size() || (premises != null && premises.size() != images)) {
            throw new InvalidInputException("entailment batch needs one hypothesis (and premise) per image: "
                    + images + " images, " + hypotheses.size() + " hypotheses"
                    + (premises == null ? "" : ", " + premises.size() + " premises"));
        }
    }

    private List<EntailmentResult> entailPixels(List<float[]> pixels, List<String> hypotheses, List<String> premises) {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < pixels.size(); i++) {
            prompts.add(promptTokens(entailmentPrompt(hypotheses.get(i), premises == null ? null : premises.get(i),
                    model.config().conventions())));
        }
        return entailTokens(pixels, prompts);
    }

    /**
     * The OFA SNLI-VE prompt, with the premise as OFA's {@code --add-caption} form when given, the
     * texts normalised as mue's own bundles were trained ({@link ModelConfig.Conventions#MUE}).
     */
    public static String entailmentPrompt(String hypothesis, String premise) {
        return entailmentPrompt(hypothesis, premise, ModelConfig.Conventions.MUE);
    }

    /**
     * The OFA SNLI-VE prompt with the texts normalised per {@code conventions}: OFA's
     * {@code pre_caption} with its word limit ({@link Tokenizer#preCaption}) or mue's own
     * ({@link Tokenizer#normalize}).
     */
    public static String entailmentPrompt(String hypothesis, String premise, ModelConfig.Conventions conventions) {
        if (hypothesis == null || hypothesis.isBlank()) {
            throw new InvalidInputException("hypothesis must not be empty");
        }
        String h = normalizeText(hypothesis, conventions);
        if (premise == null || premise.isBlank()) {
            return " does the image describe \" " + h + " \"?";
        }
        return " can image and text1 \" " + normalizeText(premise, conventions) + " \" imply text2 \" " + h + " \"?";
    }

    private static String normalizeText(String text, ModelConfig.Conventions conventions) {
        return switch (conventions.textNormalization()) {
            case OFA -> Tokenizer.preCaption(text, conventions.maxWords());
            case WHITESPACE -> Tokenizer.normalize(text);
        };
    }

    private ModelConfig.ImageResize resize() {
        return model.config().conventions().imageResize();
    }

    private List<float[]> loadAll(List<Path> images) {
        if (elements(images, "images").isEmpty()) {
            throw new InvalidInputException("no images given");
        }
        List<float[]> out = new ArrayList<>();
        for (Path p : images) {
            out.add(ImagePreprocessor.load(p, model.config().imageSize(), resize()));
        }
        return out;
    }

    private int[] promptTokens(String prompt) {
        int[] t = tokenizer.encodeWithSpecials(prompt);
        int max = plan.shapes().maxTextTokens();
        if (t.length > max) {
            if (!truncateText) {
                throw new InvalidInputException("text of " + t.length + " tokens (bos and eos included) exceeds the limit "
                        + max + "; shorten it or enable truncation");
            }
            int[] cut = Arrays.copyOf(t, max);
            cut[max - 1] = Vocabulary.EOS;
            t = cut;
        }
        return t;
    }

    private List<GenerationResult> generateImages(List<float[]> pixels, String prompt) {
        int[] tokens = promptTokens(prompt);
        List<EncoderInput> inputs = new ArrayList<>();
        for (float[] p : pixels) {
            inputs.add(new EncoderInput(p, tokens));
        }
        int n = inputs.size();
        try (EncodedBatch enc = executable.encode(inputs)) {
            int[] rows = new int[n];
            for (int i = 0; i < n; i++) {
                rows[i] = i;
            }
            List<BeamSearch.Hypothesis> best;
            try (DecoderStepper stepper = executable.decoder(enc, rows, decoding.maxLength())) {
                best = new BeamSearch(decoding, textTokens).run(stepper, n);
            }
            List<GenerationResult> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                BeamSearch.Hypothesis h = best.get(i);
                out.add(new GenerationResult(tokenizer.decode(h.tokens()).strip(), h.tokens(), h.score(),
                        Traces.generation(plan, enc.exits(i), h.steps(), enc.outputTokens(i))));
            }
            return out;
        }
    }

    private List<EntailmentResult> entailTokens(List<float[]> pixels, List<int[]> prompts) {
        int n = pixels.size();
        List<EncoderInput> inputs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            inputs.add(new EncoderInput(pixels.get(i), prompts.get(i)));
        }
        int k = answerTokens.length;
        int[] exampleOfRow = new int[n * k];
        int[][] seqs = new int[n * k][];
        int[] first = new int[n * k];
        for (int i = 0; i < n; i++) {
            int[] p = prompts.get(i);
            for (int a = 0; a < k; a++) {
                int r = i * k + a;
                exampleOfRow[r] = i;
                // decoder input: bos + prompt (its own bos and eos dropped) + answer tokens
                int[] s = new int[1 + (p.length - 2) + answerTokens[a].length];
                s[0] = Vocabulary.BOS;
                System.arraycopy(p, 1, s, 1, p.length - 2);
                System.arraycopy(answerTokens[a], 0, s, p.length - 1, answerTokens[a].length);
                if (s.length > plan.shapes().maxDecoderTokens()) {
                    throw new InvalidInputException("entailment prompt of " + p.length + " tokens makes a decoder input of "
                            + s.length + " tokens, over the limit " + plan.shapes().maxDecoderTokens());
                }
                seqs[r] = s;
                first[r] = p.length - 2; // position of the last prompt token: it predicts the answer
            }
        }
        Compiled ve = entail();
        try (EncodedBatch enc = ve.executable().encode(inputs)) {
            ScoringOutput out = ve.executable().score(enc, exampleOfRow, seqs, first);
            List<EntailmentResult> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Map<String, Double> logProbs = new LinkedHashMap<>();
                double best = Double.NEGATIVE_INFINITY;
                int bestA = 0;
                for (int a = 0; a < k; a++) {
                    double s = candidateScore(out.logits()[i * k + a], a);
                    logProbs.put(ENTAILMENT_ANSWERS.get(a), s);
                    if (s > best) {
                        best = s;
                        bestA = a;
                    }
                }
                Map<String, Double> probs = new LinkedHashMap<>();
                double z = 0;
                for (double v : logProbs.values()) {
                    z += Math.exp(v - best);
                }
                for (var e : logProbs.entrySet()) {
                    probs.put(e.getKey(), Math.exp(e.getValue() - best) / z);
                }
                DecoderStepTrace step = new DecoderStepTrace(0, answerTokens[bestA][0], out.exitLayer()[i],
                        out.gates().get(i));
                results.add(new EntailmentResult(ENTAILMENT_ANSWERS.get(bestA), logProbs, probs,
                        Traces.scoring(ve.plan(), enc.exits(i), step, enc.outputTokens(i),
                                Arrays.stream(seqs, i * k, (i + 1) * k).mapToInt(q -> q.length).toArray(),
                                Arrays.copyOfRange(first, i * k, (i + 1) * k))));
            }
            return results;
        }
    }

    /**
     * Summed log-probability of answer {@code a} and eos, each position constrained to the tokens
     * that continue some answer sharing its prefix (OFA's answer trie).
     */
    private double candidateScore(float[][] logits, int a) {
        int[] c = answerTokens[a];
        double s = 0;
        for (int j = 0; j <= c.length; j++) {
            Set<Integer> allowed = new HashSet<>();
            for (int[] other : answerTokens) {
                if (other.length >= j && Arrays.equals(other, 0, j, c, 0, j)) {
                    allowed.add(j < other.length ? other[j] : Vocabulary.EOS);
                }
            }
            int target = j < c.length ? c[j] : Vocabulary.EOS;
            if (j < logits.length) {
                s += LogSoftmax.restricted(logits[j], allowed.stream().mapToInt(Integer::intValue).toArray(), target);
            }
        }
        return s;
    }

    /** Which streams' exits an {@link ExitTrace} of this session's captions report. */
    public List<Stream> encoderStreams() {
        return plan.encoderStreams();
    }

    /** {@code value}, or an {@link InvalidInputException} naming {@code what} when it is null. */
    private static <T> T required(T value, String what) {
        if (value == null) {
            throw new InvalidInputException(what + " must not be null");
        }
        return value;
    }

    /** {@code list}, checked to be non-null with no null element. */
    private static <T> List<T> elements(List<T> list, String what) {
        required(list, what);
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) {
                throw new InvalidInputException(what + " element " + i + " is null");
            }
        }
        return list;
    }

    /**
     * Runs one call of this session: refused once {@link #close()} has begun, and counted while it
     * runs so that close waits for it.
     */
    private <T> T guarded(java.util.function.Supplier<T> call) {
        synchronized (lifecycle) {
            if (closed) {
                throw new SessionClosedException("this session on backend " + backend.id() + " is closed");
            }
            inFlight++;
        }
        try {
            return call.get();
        } finally {
            synchronized (lifecycle) {
                if (--inFlight == 0) {
                    lifecycle.notifyAll();
                }
            }
        }
    }

    /**
     * Closes the executables and the backend. Calls already running finish first: this blocks until
     * they have returned (an interrupt does not cut that short; it is kept for the caller). Calls
     * that start once close has begun get a {@link SessionClosedException}. Closing twice does nothing.
     */
    @Override
    public void close() {
        boolean interrupted = false;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            while (inFlight > 0) {
                try {
                    lifecycle.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Executable second;
        synchronized (this) {
            second = entailExecutable != executable ? entailExecutable : null;
        }
        try {
            try {
                executable.close();
            } finally {
                if (second != null) {
                    second.close();
                }
            }
        } finally {
            backend.close();
        }
    }
}
