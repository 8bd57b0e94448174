package dev.mue.serve.infer;

import dev.mue.api.ExitTrace;
import dev.mue.api.GenerationResult;
import dev.mue.api.policy.Task;
import dev.mue.serve.metrics.ServeMetrics;
import dev.mue.serve.protocol.Datatype;
import dev.mue.serve.protocol.InferRequest;
import dev.mue.serve.protocol.InputTensor;
import dev.mue.serve.protocol.OutputTensor;
import dev.mue.serve.protocol.TensorSpec;
import dev.mue.session.MueSession;
import dev.mue.session.image.ImagePreprocessor;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code caption} model: input {@code image} (BYTES, one encoded image file per element:
 * base64 in JSON, raw with the binary-data extension), output {@code caption} (BYTES, UTF-8), run
 * through {@link MueSession#captionImages}.
 */
public final class CaptionModel extends ServedModel<BufferedImage, GenerationResult> {
    /** The model's name. */
    public static final String NAME = "caption";
    /** Input: the images. */
    public static final String IMAGE = "image";
    /** Output: the captions. */
    public static final String CAPTION = "caption";

    /** A caption model over {@code pool}'s sessions. */
    public CaptionModel(SessionPool pool, PolicyOverrides overrides, BatchSettings batching, ServeMetrics metrics) {
        super(NAME, Task.CAPTION, pool, overrides, batching, metrics);
    }

    @Override
    public List<TensorSpec> inputs() {
        return List.of(new TensorSpec(IMAGE, Datatype.BYTES, List.of(-1L), false));
    }

    @Override
    public List<TensorSpec> outputs() {
        return List.of(new TensorSpec(CAPTION, Datatype.BYTES, List.of(-1L), false));
    }

    @Override
    protected List<BufferedImage> decode(InferRequest request) {
        InputTensor in = required(request, IMAGE);
        count(in, -1);
        List<byte[]> bytes = in.bytes();
        List<BufferedImage> out = new ArrayList<>(bytes.size());
        for (int i = 0; i < bytes.size(); i++) {
            out.add(ImagePreprocessor.decode(bytes.get(i), "input '" + in.name() + "' element " + i));
        }
        return out;
    }

    @Override
    protected List<GenerationResult> run(MueSession session, List<BufferedImage> items) {
        return session.captionImages(items);
    }

    @Override
    protected ExitTrace trace(GenerationResult result) {
        return result.trace();
    }

    @Override
    protected List<OutputTensor> outputs(List<GenerationResult> results) {
        return List.of(OutputTensor.bytes(CAPTION, results.stream().map(GenerationResult::text).toList()));
    }
}
