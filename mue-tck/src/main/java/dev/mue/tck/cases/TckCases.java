package dev.mue.tck.cases;

import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.tck.cases.Calibrator.Schedule;
import dev.mue.tck.cases.Calibrator.Template;
import dev.mue.tck.cases.Calibrator.Threshold;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The case catalogue: seeded random models of five shapes and the cases run on them.
 *
 * <p>Shapes (every d is odd or not a multiple of 8, every head count odd):
 * <pre>
 *   s1  d 18, 3 heads, 1+1 layers, 16 px (1 image token),  vocab 60
 *   s2  d 30, 5 heads, 3+3 layers, 32 px (4 image tokens), vocab 120, token buckets 6 (log buckets used)
 *   s3  d 45, 3 heads, 6+6 layers, 96 px (36 image tokens), vocab 200
 *   s4  d 35, 5 heads, 4+2 layers, 48 px (9 image tokens), vocab 90, token buckets 5 (odd)
 *   s5  d 21, 7 heads, 2+5 layers, 40 px (9 image tokens, odd feature maps), vocab 150
 * </pre>
 * Cases cover the decomposed and joint encoders, with and without the image relative bias, the
 * three KV policies and the three schedules, batch 1 and 5 with texts of mixed lengths (0 to 12
 * real tokens), beam 1 and 3, scoring, minimum exit layers, thresholds 1.0 (never exit) and
 * -1 (exit after layer 1), and CALM's softmax-confidence criterion on the decoder. Calibrated thresholds are placed by {@link Calibrator} when the
 * catalogue is first used; the golden files record the values placed.
 */
public final class TckCases {
    private static final ModelConfig S1 = new ModelConfig("tck-s1", 18, 1, 1, 3, 24, 60, 20, 8, 2, 16,
            new ResNetConfig(4, 2, new int[] {1, 1, 1}), 2.0, 1e-5);
    private static final ModelConfig S2 = new ModelConfig("tck-s2", 30, 3, 3, 5, 40, 120, 24, 6, 3, 32,
            new ResNetConfig(4, 4, new int[] {1, 2, 1}), 2.0, 1e-5);
    private static final ModelConfig S3 = new ModelConfig("tck-s3", 45, 6, 6, 3, 52, 200, 32, 16, 6, 96,
            new ResNetConfig(8, 4, new int[] {1, 1, 2}), 2.0, 1e-5);
    private static final ModelConfig S4 = new ModelConfig("tck-s4", 35, 4, 2, 5, 48, 90, 20, 5, 4, 48,
            new ResNetConfig(6, 3, new int[] {2, 1, 1}), 2.0, 1e-5);
    private static final ModelConfig S5 = new ModelConfig("tck-s5", 21, 2, 5, 7, 30, 150, 28, 10, 3, 40,
            new ResNetConfig(4, 2, new int[] {1, 1, 1}), 2.0, 1e-5);

    private static final int[] LENGTHS5 = {3, 0, 9, 5, 12};
    private static final List<int[]> ANSWERS = List.of(new int[] {10}, new int[] {11}, new int[] {12, 13});

    private static volatile List<TckCase> all;

    private TckCases() {
    }

    /** Every case, thresholds placed (computed once per JVM). */
    public static List<TckCase> all() {
        List<TckCase> a = all;
        if (a == null) {
            synchronized (TckCases.class) {
                a = all;
                if (a == null) {
                    a = templates().stream().map(Calibrator::calibrate).toList();
                    Map<String, TckCase> unique = a.stream().collect(Collectors.toMap(TckCase::name, Function.identity()));
                    if (unique.size() != a.size()) {
                        throw new IllegalStateException("duplicate case names in the catalogue");
                    }
                    all = a;
                }
            }
        }
        return a;
    }

    /** The case named {@code name}. */
    public static TckCase byName(String name) {
        return all().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new NoSuchElementException("no TCK case named " + name));
    }

    /** Names of the cases that have golden files. */
    public static List<String> goldenNames() {
        return List.of("s1-full-b1-greedy", "s1-joint-b5-beam3", "s2-cal-propagate-b1-greedy", "s2-cal-copy-b1-greedy",
                "s2-cal-omit-b1-greedy", "s2-cal-omit-b5-beam3", "s2-minus1-b5-beam3", "s2-minlayer2-b5-beam3",
                "s3-cal-decay-propagate-b5-beam3", "s3-cal-refdecay-omit-b1-beam3", "s3-cal-joint-copy-b5-greedy",
                "s3-cal-no-image-rel-b2-beam3", "s4-cal-joint-no-image-rel-b1-greedy", "s5-cal-decay-copy-b5-beam3",
                "s5-cal-score-b5");
    }

    // ------------------------------------------------------------------ catalogue

    private static final class T {
        final String name;
        final String description;
        final TckCase.ModelSpec model;
        ExitPolicy.Builder policy = ExitPolicy.builder();
        Threshold image = new Threshold.At(1.0);
        Threshold text = new Threshold.At(1.0);
        Threshold joint = new Threshold.At(1.0);
        Threshold decoder = new Threshold.At(1.0);
        Schedule schedule = Schedule.FIXED;
        List<TckCase.InputSpec> inputs = new ArrayList<>();
        DecodingOptions decoding;
        boolean score;

        T(String name, String description, ModelConfig c, long seed, double std) {
            this.name = name;
            this.description = description;
            this.model = new TckCase.ModelSpec(c, seed, std);
        }

        T batch(long seed, int... lengths) {
            for (int i = 0; i < lengths.length; i++) {
                inputs.add(new TckCase.InputSpec(seed * 1000 + i, lengths[i]));
            }
            return this;
        }

        T beam(int beam, int maxLength, int noRepeat) {
            decoding = new DecodingOptions(beam, maxLength, noRepeat, 1.0);
            return this;
        }

        T score() {
            score = true;
            return this;
        }

        T all(Threshold t) {
            image = t;
            text = t;
            joint = t;
            decoder = t;
            return this;
        }

        T encoder(Threshold t) {
            image = t;
            text = t;
            joint = t;
            return this;
        }

        T decoder(Schedule s, Threshold t) {
            schedule = s;
            decoder = t;
            return this;
        }

        T kv(KvPolicy k) {
            policy.kvPolicy(k);
            return this;
        }

        T joint() {
            policy.encoderMode(EncoderMode.JOINT);
            return this;
        }

        T noImageRel() {
            policy.imageRelativeBiasInEncoder(false);
            return this;
        }

        T minLayer(int l) {
            policy.minExitLayer(l);
            return this;
        }

        T decoderCriterion(String id) {
            policy.decoderCriterion(id);
            return this;
        }

        Template build() {
            ModelConfig c = model.config();
            int maxText = inputs.stream().mapToInt(i -> i.textLength() + 2).max().orElse(2);
            int dec = Math.max(decoding == null ? 2 : decoding.maxLength() + 1, score ? maxText - 1 + 2 : 2);
            PlanShapes shapes = new PlanShapes(Math.max(maxText, 4), dec);
            if (shapes.maxTextTokens() > c.maxPositions() || shapes.maxDecoderTokens() > c.maxPositions()) {
                throw new IllegalStateException(name + ": shapes " + shapes + " exceed " + c.maxPositions());
            }
            TckCase base = new TckCase(name, description, model, shapes, policy.build(), inputs, decoding,
                    score ? ANSWERS : null);
            return new Template(base, image, text, joint, schedule, decoder);
        }
    }

    private static Threshold between(double q) {
        return new Threshold.Between(q);
    }

    private static Threshold at(double v) {
        return new Threshold.At(v);
    }

    /** The catalogue before threshold placement. */
    static List<Template> templates() {
        List<T> t = new ArrayList<>();
        // s1: one layer per stack (no gates at all), one image token.
        t.add(new T("s1-full-b1-greedy", "1+1 layers, 1 image token: the plain model math, no gates", S1, 11, 0.15)
                .batch(1, 4).beam(1, 6, 3).score());
        t.add(new T("s1-full-b5-beam3", "1+1 layers, batch 5 of mixed text lengths, beam 3", S1, 12, 0.15)
                .batch(2, LENGTHS5).beam(3, 6, 3).score());
        t.add(new T("s1-joint-b5-beam3", "joint encoder over 1 image token + text, batch 5, beam 3", S1, 13, 0.2)
                .batch(3, LENGTHS5).beam(3, 6, 3).joint().score());
        // s2: three layers, calibrated thresholds, each KV policy, batch 1 and 5.
        for (KvPolicy kv : KvPolicy.values()) {
            String k = kv.name().toLowerCase(java.util.Locale.ROOT);
            t.add(new T("s2-cal-" + k + "-b1-greedy", "calibrated exits, KV policy " + k + ", greedy", S2, 21, 0.15)
                    .batch(4, 7).beam(1, 8, 3).encoder(between(0.5)).decoder(Schedule.FIXED, between(0.5)).kv(kv)
                    .score());
            t.add(new T("s2-cal-" + k + "-b5-beam3", "calibrated exits, KV policy " + k + ", batch 5, beam 3", S2, 22,
                    0.15).batch(5, LENGTHS5).beam(3, 8, 3).encoder(between(0.5))
                    .decoder(Schedule.FIXED, between(0.4)).kv(kv).score());
        }
        t.add(new T("s2-minus1-b5-beam3", "threshold -1 everywhere: every stream exits after layer 1", S2, 23, 0.15)
                .batch(6, LENGTHS5).beam(3, 6, 3).all(at(-1)).score());
        t.add(new T("s2-minlayer2-b5-beam3", "threshold -1 with minimum exit layer 2: exits at layer 2", S2, 24, 0.15)
                .batch(7, LENGTHS5).beam(3, 6, 3).all(at(-1)).minLayer(2).kv(KvPolicy.COPY).score());
        t.add(new T("s2-full-b5-beam3", "threshold 1.0 everywhere: the full model", S2, 25, 0.15)
                .batch(8, LENGTHS5).beam(3, 8, 3).score());
        t.add(new T("s2-paper-b5-beam3", "the paper's thresholds, not placed: close calls are counted", S2, 26, 0.15)
                .batch(9, LENGTHS5).beam(3, 8, 3).encoder(at(0.9)).decoder(Schedule.DECAY, at(0.99))
                .score());
        // s3: six layers, 36 image tokens.
        t.add(new T("s3-full-b1-beam3", "6+6 layers, 36 image tokens, full model, beam 3", S3, 31, 0.12)
                .batch(10, 10).beam(3, 8, 3).score());
        t.add(new T("s3-cal-decay-propagate-b5-beam3", "decay schedule, propagate, batch 5, beam 3", S3, 32, 0.12)
                .batch(11, LENGTHS5).beam(3, 8, 3).encoder(between(0.5)).decoder(Schedule.DECAY, between(0.5))
                .kv(KvPolicy.PROPAGATE));
        t.add(new T("s3-cal-refdecay-omit-b1-beam3", "the reference code's decay (no exit in the first third), omit",
                S3, 33, 0.12).batch(12, 6).beam(3, 9, 3).encoder(between(0.4))
                .decoder(Schedule.REFERENCE_DECAY, between(0.3)).kv(KvPolicy.OMIT));
        t.add(new T("s3-cal-joint-copy-b5-greedy", "joint encoder, calibrated, copy, batch 5", S3, 34, 0.12)
                .batch(13, LENGTHS5).beam(1, 8, 3).joint().encoder(between(0.5)).decoder(Schedule.FIXED, between(0.5))
                .kv(KvPolicy.COPY).score());
        t.add(new T("s3-cal-no-image-rel-b2-beam3", "decomposed encoder without the image relative bias", S3, 35, 0.12)
                .batch(14, 2, 11).beam(3, 8, 3).noImageRel().encoder(between(0.6))
                .decoder(Schedule.FIXED, between(0.5)).kv(KvPolicy.PROPAGATE).score());
        t.add(new T("s3-cal-omit-b5-beam3", "six decoder layers, omit, batch 5, beam 3", S3, 36, 0.12)
                .batch(15, LENGTHS5).beam(3, 8, 0).encoder(between(0.3)).decoder(Schedule.FIXED, between(0.5))
                .kv(KvPolicy.OMIT));
        // s4: 4+2 layers, 9 image tokens, odd token buckets.
        t.add(new T("s4-full-joint-b5-beam3", "joint encoder, full model, batch 5, beam 3", S4, 41, 0.15)
                .batch(16, LENGTHS5).beam(3, 6, 3).joint().score());
        t.add(new T("s4-cal-joint-no-image-rel-b1-greedy", "joint encoder without the image relative bias", S4, 42,
                0.15).batch(17, 12).beam(1, 8, 3).joint().noImageRel().encoder(between(0.5))
                .decoder(Schedule.FIXED, between(0.5)).score());
        t.add(new T("s4-cal-omit-b5-greedy", "decomposed, calibrated, omit, batch 5, greedy", S4, 43, 0.15)
                .batch(18, LENGTHS5).beam(1, 8, 3).encoder(between(0.6)).decoder(Schedule.FIXED, between(0.5))
                .kv(KvPolicy.OMIT).score());
        t.add(new T("s4-cal-minlayer3-b5-beam3", "minimum exit layer 3 (the decoder's gate is disabled)", S4, 44, 0.15)
                .batch(19, LENGTHS5).beam(3, 6, 3).minLayer(3).encoder(between(0.3))
                .decoder(Schedule.FIXED, at(-1)).score());
        // s5: 2+5 layers, 40 px.
        t.add(new T("s5-cal-decay-copy-b5-beam3", "decay schedule, copy, five decoder layers", S5, 51, 0.18)
                .batch(20, LENGTHS5).beam(3, 8, 3).encoder(between(0.5)).decoder(Schedule.DECAY, between(0.5))
                .kv(KvPolicy.COPY));
        t.add(new T("s5-cal-refdecay-propagate-b1-greedy", "reference decay, propagate, greedy", S5, 52, 0.18)
                .batch(21, 9).beam(1, 10, 3).encoder(between(0.5)).decoder(Schedule.REFERENCE_DECAY, between(0.4))
                .kv(KvPolicy.PROPAGATE));
        t.add(new T("s5-cal-score-b5", "visual-entailment style scoring only, one decision per example", S5, 53, 0.18)
                .batch(22, LENGTHS5).encoder(between(0.5)).decoder(Schedule.FIXED, between(0.5)).score());
        t.add(new T("s5-cal-omit-b5-beam3", "omit, no-repeat-ngram 2, batch 5, beam 3", S5, 54, 0.18)
                .batch(23, LENGTHS5).beam(3, 8, 2).encoder(between(0.4)).decoder(Schedule.FIXED, between(0.5))
                .kv(KvPolicy.OMIT));
        // The exit SPI's second criterion: CALM's softmax confidence on the decoder's gates.
        t.add(new T("s2-calm-propagate-b5-beam3", "CALM's softmax confidence on decoder gates, propagate, beam 3", S2,
                27, 0.15).batch(24, LENGTHS5).beam(3, 8, 3).encoder(between(0.5))
                .decoder(Schedule.FIXED, between(0.5)).decoderCriterion("calm").kv(KvPolicy.PROPAGATE).score());
        t.add(new T("s5-calm-omit-b5-greedy", "CALM's confidence over five decoder layers, omit, greedy", S5, 55, 0.18)
                .batch(25, LENGTHS5).beam(1, 8, 3).decoder(Schedule.DECAY, between(0.5)).decoderCriterion("calm")
                .kv(KvPolicy.OMIT).score());
        return t.stream().map(T::build).toList();
    }
}
