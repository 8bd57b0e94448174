package dev.mue.backend.java;

import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResolvedWeights;
import dev.mue.api.model.ResolvedWeights.Bottleneck;
import dev.mue.api.model.ResolvedWeights.ConvBn;
import dev.mue.api.model.ResolvedWeights.Layer;
import dev.mue.api.model.ResolvedWeights.Linear;
import dev.mue.api.model.ResolvedWeights.Norm;

/**
 * The plan's resolved weights ({@link ResolvedWeights}) in the arrays the Java backend indexes,
 * plus the tied LM head as a bias-free linear layer. Nothing is read by key, copied or folded here:
 * arrays are the plan's.
 */
final class JvParams {
    final ModelConfig config;
    final float[] embedTokens;
    /** Type embedding 0, added to text tokens. */
    final float[] textType;
    /** Type embedding 1, added to image tokens. */
    final float[] imageType;
    final Norm textEmbedLn;
    final Norm imageEmbedLn;
    final Linear imageProj;
    final Norm encoderOutLn;
    final Layer[] encoder;
    final Norm decoderEmbedLn;
    final Norm decoderOutLn;
    final Layer[] decoder;
    final Linear lmHead;
    final ConvBn stem;
    final Bottleneck[][] stages;

    JvParams(ModelConfig c, ResolvedWeights w) {
        this.config = c;
        int d = c.dModel();
        embedTokens = w.embedTokens();
        textType = w.textType();
        imageType = w.imageType();
        textEmbedLn = w.textEmbedLn();
        imageEmbedLn = w.imageEmbedLn();
        imageProj = w.imageProj();
        encoderOutLn = w.encoderOutLn();
        encoder = w.encoder().toArray(new Layer[0]);
        decoderEmbedLn = w.decoderEmbedLn();
        decoderOutLn = w.decoderOutLn();
        decoder = w.decoder().toArray(new Layer[0]);
        lmHead = new Linear(embedTokens, null, d, c.vocabSize());
        stem = w.stem();
        stages = w.stages().stream().map(s -> s.toArray(new Bottleneck[0])).toArray(Bottleneck[][]::new);
    }
}
