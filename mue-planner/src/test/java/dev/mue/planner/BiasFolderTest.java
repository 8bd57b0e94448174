package dev.mue.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.mue.api.model.WeightLayout;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.Weights;
import dev.mue.api.plan.BiasBlock;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.plan.PositionBiases;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import org.junit.jupiter.api.Test;

/** The folded biases against a direct computation of single entries. */
class BiasFolderTest {
    private final ModelConfig c = TestModels.small();
    private final Model model = TestModels.model(c, 11);
    private final Weights w = model.weights();

    /** A folder over the position parameters of {@code cfg}'s resolved weights. */
    private BiasFolder folder(ModelConfig cfg) {
        return new BiasFolder(cfg, WeightLayout.resolve(cfg, w).positions());
    }

    private double[] lnPos(String table, int row, String ln) {
        int d = c.dModel();
        float[] e = w.data(table);
        double mean = 0;
        for (int k = 0; k < d; k++) {
            mean += e[row * d + k];
        }
        mean /= d;
        double var = 0;
        for (int k = 0; k < d; k++) {
            var += Math.pow(e[row * d + k] - mean, 2);
        }
        var /= d;
        double[] out = new double[d];
        for (int k = 0; k < d; k++) {
            out[k] = (e[row * d + k] - mean) / Math.sqrt(var + 1e-5) * w.data(ln + ".weight")[k] + w.data(ln + ".bias")[k];
        }
        return out;
    }

    private double headDot(double[] qIn, double[] kIn, String qLin, String kLin, int h) {
        int d = c.dModel();
        int hd = c.headDim();
        double s = 0;
        for (int x = h * hd; x < (h + 1) * hd; x++) {
            double q = w.data(qLin + ".bias")[x];
            double k = w.data(kLin + ".bias")[x];
            for (int j = 0; j < d; j++) {
                q += qIn[j] * w.data(qLin + ".weight")[x * d + j];
                k += kIn[j] * w.data(kLin + ".weight")[x * d + j];
            }
            s += q * k;
        }
        return s * Math.pow(2.0 * hd, -0.5);
    }

    @Test
    void textBiasIsAbsolutePlusTokenRelative() {
        PositionBiases b = folder(c).fold(ExitPolicy.full(), new PlanShapes(12, 10));
        BiasBlock t = b.encoderText();
        int i = 7;
        int j = 2;
        int h = 1;
        int layer = 2;
        double abs = headDot(lnPos("encoder.embed_positions.weight", i, "encoder.pos_ln"),
                lnPos("encoder.embed_positions.weight", j, "encoder.pos_ln"), "encoder.pos_q_linear",
                "encoder.pos_k_linear", h);
        int bucket = PositionBuckets.token(i - j, c.tokenBucketSize(), c.maxPositions());
        double rel = w.data("encoder.token_rel_pos_table_list." + layer + ".weight")[bucket * c.heads() + h];
        assertEquals(abs + rel, t.at(layer, h, i, j), 1e-5);
    }

    @Test
    void tokenBucketsAreScaledOverTheConventionsPositions() {
        // max_positions 40, bucket size 8 (mid 4): distance 11 falls in bucket 6 when the log
        // buckets are scaled over 40 positions (mue's bundles) and in bucket 5 over OFA's 1024.
        assertEquals(6 + 7, PositionBuckets.token(11, 8, 40));
        assertEquals(5 + 7, PositionBuckets.token(11, 8, 1024));
        ModelConfig ofa = c.withConventions(ModelConfig.Conventions.OFA);
        assertEquals(40, c.tokenBucketPositions());
        assertEquals(1024, ofa.tokenBucketPositions());
        PlanShapes shapes = new PlanShapes(12, 12);
        BiasBlock mue = folder(c).fold(ExitPolicy.full(), shapes).encoderText();
        BiasBlock of = folder(ofa).fold(ExitPolicy.full(), shapes).encoderText();
        float[] table = w.data("encoder.token_rel_pos_table_list.0.weight");
        int h = 2;
        assertEquals(mue.abs()[(h * 12 + 11) * 12], of.abs()[(h * 12 + 11) * 12], 0f, "the absolute part is the same");
        assertEquals(table[(6 + 7) * c.heads() + h] - table[(5 + 7) * c.heads() + h],
                mue.at(0, h, 11, 0) - of.at(0, h, 11, 0), 1e-6);
        assertEquals(mue.at(0, h, 5, 1), of.at(0, h, 5, 1), 0f, "distances up to the mid bucket are exact in both");
    }

    @Test
    void imageBiasUsesGridPositionsAndCanDropTheRelativePart() {
        int g = c.imageGrid();
        int i = g + 2; // cell (1, 2)
        int j = 0; // cell (0, 0)
        int h = 2;
        double abs = headDot(lnPos("encoder.embed_image_positions.weight", PositionBuckets.imagePositionId(1, 2, c.imageBucketSize()), "encoder.image_pos_ln"),
                lnPos("encoder.embed_image_positions.weight", PositionBuckets.imagePositionId(0, 0, c.imageBucketSize()), "encoder.image_pos_ln"),
                "encoder.pos_q_linear", "encoder.pos_k_linear", h);
        double rel = w.data("encoder.image_rel_pos_table_list.1.weight")[PositionBuckets.image(1, 2, 0, 0,
                c.imageBucketSize()) * c.heads() + h];
        PositionBiases with = folder(c).fold(ExitPolicy.full(), new PlanShapes(12, 10));
        assertEquals(abs + rel, with.encoderImage().at(1, h, i, j), 1e-5);
        PositionBiases without = folder(c).fold(
                ExitPolicy.full().toBuilder().imageRelativeBiasInEncoder(false).build(), new PlanShapes(12, 10));
        assertEquals(abs, without.encoderImage().at(1, h, i, j), 1e-5);
        assertNull(without.encoderImage().bucket());
    }

    @Test
    void jointBiasHasNoRelativePartAcrossModalities() {
        PositionBiases b = folder(c).fold(ExitPolicy.full().toBuilder().encoderMode(EncoderMode.JOINT).build(),
                new PlanShapes(12, 10));
        BiasBlock j = b.encoderJoint();
        int img = c.imageTokens();
        int h = 0;
        double abs = headDot(lnPos("encoder.embed_positions.weight", 3, "encoder.pos_ln"),
                lnPos("encoder.embed_image_positions.weight", PositionBuckets.imagePositionId(0, 1, c.imageBucketSize()), "encoder.image_pos_ln"),
                "encoder.pos_q_linear", "encoder.pos_k_linear", h);
        assertEquals(abs, j.at(0, h, img + 3, 1), 1e-5, "text query, image key: absolute only");
        BiasBlock text = folder(c).fold(ExitPolicy.full(), new PlanShapes(12, 10)).encoderText();
        assertEquals(text.at(1, h, 4, 2), j.at(1, h, img + 4, img + 2), 1e-6, "text block equals the text stream's");
    }

    @Test
    void crossBiasUsesDecoderQueriesAndEncoderKeys() {
        PositionBiases b = folder(c).fold(ExitPolicy.full(), new PlanShapes(12, 10));
        int h = 1;
        int img = c.imageTokens();
        double abs = headDot(lnPos("decoder.embed_positions.weight", 5, "decoder.pos_ln"),
                lnPos("encoder.embed_positions.weight", 2, "encoder.pos_ln"), "decoder.cross_pos_q_linear",
                "decoder.cross_pos_k_linear", h);
        assertEquals(abs, b.decoderCross().at(0, h, 5, img + 2), 1e-5);
        assertEquals(img + 12, b.decoderCross().cols());
    }

    @Test
    void jointBiasDropsTheImageRelativePartWhenThePolicySaysSo() {
        ExitPolicy joint = ExitPolicy.full().toBuilder().encoderMode(EncoderMode.JOINT).build();
        BiasBlock with = folder(c).fold(joint, new PlanShapes(12, 10)).encoderJoint();
        BiasBlock without = folder(c).fold(
                joint.toBuilder().imageRelativeBiasInEncoder(false).build(), new PlanShapes(12, 10)).encoderJoint();
        int img = c.imageTokens();
        double rel = w.data("encoder.image_rel_pos_table_list.1.weight")[PositionBuckets.image(0, 1, 1, 0,
                c.imageBucketSize()) * c.heads() + 2];
        int i = 1; // cell (0, 1)
        int j = c.imageGrid(); // cell (1, 0)
        assertEquals(without.at(1, 2, i, j) + rel, with.at(1, 2, i, j), 1e-6);
        assertEquals(with.at(1, 2, img + 3, img + 1), without.at(1, 2, img + 3, img + 1), "text block unchanged");
    }
}
