package dev.mue.api.plan;

/**
 * Every attention bias of a plan, folded once by the planner (positions never enter embeddings in
 * OFA; they enter only as these biases).
 *
 * @param encoderText   text self-attention in the decomposed encoder, {@code [maxText, maxText]};
 *                      null in joint mode
 * @param encoderImage  image self-attention in the decomposed encoder, {@code [I, I]}; relative part
 *                      present only when the policy keeps the image relative bias; null in joint mode
 * @param encoderJoint  joint encoder self-attention over [image ; text], {@code [I+maxText, I+maxText]};
 *                      null in decomposed mode
 * @param decoderSelf   decoder self-attention, {@code [maxDecoder, maxDecoder]}
 * @param decoderCross  decoder cross-attention over [image ; text] encoder positions,
 *                      {@code [maxDecoder, I+maxText]}, no relative part
 */
public record PositionBiases(BiasBlock encoderText, BiasBlock encoderImage, BiasBlock encoderJoint,
        BiasBlock decoderSelf, BiasBlock decoderCross) {

    /** Total number of folded floats, for the plan's memory report. */
    public long floatCount() {
        long n = 0;
        for (BiasBlock b : new BiasBlock[] {encoderText, encoderImage, encoderJoint, decoderSelf, decoderCross}) {
            if (b != null) {
                n += b.abs().length;
                if (b.tables() != null) {
                    for (float[] t : b.tables()) {
                        n += t.length;
                    }
                    n += b.bucket().length;
                }
            }
        }
        return n;
    }
}
