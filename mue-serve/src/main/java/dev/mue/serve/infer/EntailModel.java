package dev.mue.serve.infer;

import dev.mue.api.EntailmentResult;
import dev.mue.api.ExitTrace;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.policy.Task;
import dev.mue.serve.metrics.ServeMetrics;
import dev.mue.serve.protocol.Datatype;
import dev.mue.serve.protocol.InferRequest;
import dev.mue.serve.protocol.InputTensor;
import dev.mue.serve.protocol.OutputTensor;
import dev.mue.serve.protocol.RequestException;
import dev.mue.serve.protocol.TensorSpec;
import dev.mue.session.MueSession;
import dev.mue.session.image.ImagePreprocessor;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code entail} model: inputs {@code image} (BYTES, encoded image files), {@code hypothesis}
 * and optionally {@code premise} (BYTES, UTF-8 text), one element each per example; outputs
 * {@code answer} (BYTES: yes, no or maybe) and {@code probabilities} (FP32 [n, 3], in the order
 * yes, no, maybe), run through {@link MueSession#entailImages}.
 */
public final class EntailModel extends ServedModel<EntailModel.Item, EntailmentResult> {
    /** The model's name. */
    public static final String NAME = "entail";
    /** Input: the images. */
    public static final String IMAGE = "image";
    /** Input: the hypotheses. */
    public static final String HYPOTHESIS = "hypothesis";
    /** Input (optional): the premises. */
    public static final String PREMISE = "premise";
    /** Output: the answers. */
    public static final String ANSWER = "answer";
    /** Output: the answers' probabilities. */
    public static final String PROBABILITIES = "probabilities";

    private final int maxTextChars;

    /** One example: an image, a hypothesis and a premise (null for none). */
    public record Item(BufferedImage image, String hypothesis, String premise) {
    }

    /**
     * An entailment model over {@code pool}'s sessions.
     *
     * @param maxTextChars the longest hypothesis or premise accepted, in characters (code points)
     */
    public EntailModel(SessionPool pool, PolicyOverrides overrides, BatchSettings batching, ServeMetrics metrics,
            int maxTextChars) {
        super(NAME, Task.ENTAIL, pool, overrides, batching, metrics);
        if (maxTextChars < 1) {
            throw new IllegalArgumentException("maxTextChars must be >= 1, got " + maxTextChars);
        }
        this.maxTextChars = maxTextChars;
    }

    @Override
    public List<TensorSpec> inputs() {
        return List.of(new TensorSpec(IMAGE, Datatype.BYTES, List.of(-1L), false),
                new TensorSpec(HYPOTHESIS, Datatype.BYTES, List.of(-1L), false),
                new TensorSpec(PREMISE, Datatype.BYTES, List.of(-1L), true));
    }

    @Override
    public List<TensorSpec> outputs() {
        return List.of(new TensorSpec(ANSWER, Datatype.BYTES, List.of(-1L), false),
                new TensorSpec(PROBABILITIES, Datatype.FP32, List.of(-1L, (long) MueSession.ENTAILMENT_ANSWERS.size()),
                        false));
    }

    @Override
    protected List<Item> decode(InferRequest request) {
        InputTensor imageIn = required(request, IMAGE);
        InputTensor hypothesisIn = required(request, HYPOTHESIS);
        int n = count(imageIn, -1);
        count(hypothesisIn, n);
        List<String> hypotheses = texts(hypothesisIn);
        List<String> premises = null;
        if (request.input(PREMISE).isPresent()) {
            InputTensor premiseIn = request.input(PREMISE).get();
            count(premiseIn, n);
            premises = texts(premiseIn);
        }
        ModelConfig.Conventions conventions = pool().base().model().config().conventions();
        List<Item> out = new ArrayList<>(n);
        List<byte[]> bytes = imageIn.bytes();
        for (int i = 0; i < n; i++) {
            String h = hypotheses.get(i);
            String p = premises == null || premises.get(i).isBlank() ? null : premises.get(i);
            if (h.isBlank()) {
                throw new RequestException("input '" + HYPOTHESIS + "' element " + i + " is empty");
            }
            // The session's own prompt builder: whatever it refuses is refused here, before batching.
            MueSession.entailmentPrompt(h, p, conventions);
            out.add(new Item(ImagePreprocessor.decode(bytes.get(i), "input '" + IMAGE + "' element " + i), h, p));
        }
        return out;
    }

    private List<String> texts(InputTensor in) {
        List<String> texts = in.texts();
        for (int i = 0; i < texts.size(); i++) {
            int chars = texts.get(i).codePointCount(0, texts.get(i).length());
            if (chars > maxTextChars) {
                throw new RequestException("input '" + in.name() + "' element " + i + " has " + chars
                        + " characters, over this server's limit of " + maxTextChars + " (--max-text-chars)");
            }
        }
        return texts;
    }

    @Override
    protected List<EntailmentResult> run(MueSession session, List<Item> items) {
        List<BufferedImage> images = new ArrayList<>(items.size());
        List<String> hypotheses = new ArrayList<>(items.size());
        List<String> premises = new ArrayList<>(items.size());
        boolean anyPremise = false;
        for (Item it : items) {
            images.add(it.image());
            hypotheses.add(it.hypothesis());
            premises.add(it.premise());
            anyPremise |= it.premise() != null;
        }
        return session.entailImages(images, hypotheses, anyPremise ? premises : null);
    }

    @Override
    protected ExitTrace trace(EntailmentResult result) {
        return result.trace();
    }

    @Override
    protected List<OutputTensor> outputs(List<EntailmentResult> results) {
        List<String> answers = results.stream().map(EntailmentResult::answer).toList();
        int k = MueSession.ENTAILMENT_ANSWERS.size();
        float[] probs = new float[results.size() * k];
        for (int i = 0; i < results.size(); i++) {
            for (int a = 0; a < k; a++) {
                probs[i * k + a] = results.get(i).probabilities().get(MueSession.ENTAILMENT_ANSWERS.get(a)).floatValue();
            }
        }
        return List.of(OutputTensor.bytes(ANSWER, answers),
                OutputTensor.fp32(PROBABILITIES, new long[] {results.size(), k}, probs));
    }
}
