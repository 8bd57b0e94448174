package dev.mue.api;

import java.util.List;

/**
 * Every exit decision made for one example: the encoder streams' exits and, for each generated
 * token of the returned hypothesis, the decoder's.
 *
 * @param encoder        one entry per encoder stream (image and text, or joint)
 * @param decoder        one entry per generated token (per beam, the chosen beam's history)
 * @param encoderLayers  layers in the model's encoder
 * @param decoderLayers  layers in the model's decoder
 * @param flopsRun       estimated FLOPs of the layers actually run (encoder layers and decoder steps),
 *                       with the gates evaluated and the keys and values propagated to skipped layers
 * @param flopsFull      estimated FLOPs of the same work with every layer run and no gate: the model
 *                       without MuE (so a run whose gates never exit shows a small negative saving)
 * @param flopsFixed     estimated FLOPs of the work no exit can skip: the image backbone, the
 *                       embeddings, the encoder's final LayerNorm and the LM head (the rest of the
 *                       whole pass)
 */
public record ExitTrace(List<EncoderExit> encoder, List<DecoderStepTrace> decoder, int encoderLayers,
        int decoderLayers, long flopsRun, long flopsFull, long flopsFixed) {

    /** Copies the lists. */
    public ExitTrace {
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
    }

    /** Average encoder layers run, weighted by each stream's token count. */
    public double encoderLayersUsed() {
        double num = 0;
        double den = 0;
        for (EncoderExit e : encoder) {
            num += (double) e.exitLayer() * e.tokens();
            den += e.tokens();
        }
        return den == 0 ? encoderLayers : num / den;
    }

    /** Average decoder layers run per generated token. */
    public double decoderLayersUsed() {
        return decoder.isEmpty() ? decoderLayers
                : decoder.stream().mapToInt(DecoderStepTrace::exitLayer).average().orElse(decoderLayers);
    }

    /**
     * The paper's expected time reduction: {@code 1 - (nE + nD) / (NE + ND)}, with nE the
     * token-weighted encoder layers used and nD the decoder layers used averaged over tokens.
     */
    public double layerReduction() {
        return 1 - (encoderLayersUsed() + decoderLayersUsed()) / (encoderLayers + decoderLayers);
    }

    /** The FLOP-weighted expected time reduction over the layers (backbone and head excluded). */
    public double flopReduction() {
        return flopsFull == 0 ? 0 : 1 - (double) flopsRun / flopsFull;
    }

    /**
     * The FLOP-weighted expected time reduction of the whole pass (design §10.6): the layers' saving
     * over everything the pass computes, backbone, embeddings and LM head included. This is the
     * figure a measured wall-clock saving can approach; {@link #flopReduction()} overstates it by
     * the share of the fixed work.
     */
    public double wholePassFlopReduction() {
        long whole = flopsFull + flopsFixed;
        return whole == 0 ? 0 : 1 - (double) (flopsRun + flopsFixed) / whole;
    }
}
