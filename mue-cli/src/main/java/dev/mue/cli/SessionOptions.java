package dev.mue.cli;

import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.DecoderSchedule;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.policy.Task;
import dev.mue.api.spi.BackendOptions;
import dev.mue.model.grid.GridModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * Options shared by {@code caption}, {@code entail}, {@code plan} and {@code eval}: the model, the
 * backend and the exit policy. Each task's policy is chosen by {@link PolicyChoice#resolve}:
 * {@code --policy FILE}, else the bundle's {@code policy.json}, else the paper's appendix A values;
 * each threshold flag then overrides one field of it (and the result no longer carries a certificate).
 */
final class SessionOptions {
    /** The command these options belong to, for usage errors. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** The paper's decay parameters, used by {@code --schedule decay}. */
    static final double DECAY_BETA = 0.95;
    static final double DECAY_TAU = 1.0;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model bundle directory (config.json, model.safetensors, dict.txt); default: the bundled, trained mue-grid model.")
    Path model;

    @Option(names = "--backend", paramLabel = "ID", defaultValue = "auto",
            description = "Backend id (java, torch, tf) or auto: the system property mue.backend, then MUE_BACKEND, then the best available. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Backend worker threads; 0 means one per core. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--policy", paramLabel = "FILE",
            description = "Exit policies from a policy file (mue calibrate writes one); overrides the bundle's policy.json, the threshold flags override it.")
    Path policyFile;

    @Option(names = "--image-threshold", paramLabel = "X", description = "Image stream exit threshold (paper: 0.9).")
    Double imageThreshold;

    @Option(names = "--text-threshold", paramLabel = "X", description = "Text stream exit threshold (paper: 0.95).")
    Double textThreshold;

    @Option(names = "--encoder-threshold", paramLabel = "X",
            description = "Image, text and joint encoder thresholds at once (the stream flags take precedence).")
    Double encoderThreshold;

    @Option(names = "--decoder-threshold", paramLabel = "X",
            description = "Decoder threshold theta (paper: 0.99); the schedule turns it into a per-step threshold.")
    Double decoderThreshold;

    @Option(names = "--schedule", paramLabel = "KIND", converter = ScheduleConverter.class,
            description = "Decoder schedule: fixed, decay (beta 0.95, tau 1) or reference-decay (paper default: decay).")
    ScheduleKind schedule;

    @Option(names = "--decoder-criterion", paramLabel = "ID",
            description = "Test of the decoder's exit gates: cosine (MuE's similarity of a layer's output and input, "
                    + "default) or calm (CALM's top-1 softmax probability); criteria found through ServiceLoader too.")
    String decoderCriterion;

    @Option(names = "--kv-policy", paramLabel = "POLICY",
            description = "Key/values of skipped decoder layers: propagate (default), copy or omit.")
    KvPolicy kvPolicy;

    @Option(names = "--encoder", paramLabel = "MODE",
            description = "Encoder mode: decomposed (MuE, default) or joint (vanilla OFA).")
    EncoderMode encoderMode;

    @Option(names = "--no-image-relative-bias",
            description = "Drop the image tokens' 2-D relative bias in the encoder, as the reference code does.")
    boolean noImageRelativeBias;

    @Option(names = "--beam", paramLabel = "N", defaultValue = "5",
            description = "Beam size; 1 is greedy. Default: ${DEFAULT-VALUE}.")
    int beam;

    @Option(names = "--max-length", paramLabel = "N", defaultValue = "16",
            description = "Most tokens generated before eos is forced. Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--bos", paramLabel = "RULE",
            description = "Whether generation may emit bos: ban (mue's bundles) or allow (OFA's generator masks only pad)."
                    + " Default: the model's conventions.")
    String bos;

    /** Decoder schedule kinds, as named on the command line. */
    enum ScheduleKind {
        FIXED("fixed"), DECAY("decay"), REFERENCE_DECAY("reference-decay");

        final String cliName;

        ScheduleKind(String cliName) {
            this.cliName = cliName;
        }

        @Override
        public String toString() {
            return cliName;
        }
    }

    /** Parses {@code fixed}, {@code decay} and {@code reference-decay}. */
    static final class ScheduleConverter implements ITypeConverter<ScheduleKind> {
        @Override
        public ScheduleKind convert(String value) {
            String v = value.trim().toLowerCase(Locale.ROOT).replace('_', '-');
            for (ScheduleKind k : ScheduleKind.values()) {
                if (k.cliName.equals(v)) {
                    return k;
                }
            }
            throw new TypeConversionException("expected one of fixed, decay, reference-decay but was '" + value + "'");
        }
    }

    /** The model named by {@code --model}, or the bundled default. */
    Model loadModel() {
        return loadModel(model);
    }

    /** The bundle in {@code dir}, or the bundled default when null. */
    static Model loadModel(Path dir) {
        if (dir != null) {
            return ModelBundle.load(dir);
        }
        return GridModel.load();
    }

    /** Where the model comes from, for messages. */
    String modelSource() {
        return model != null ? model.toString() : GridModel.SOURCE;
    }

    /** Whether any policy flag was given (then it overrides the file's, the bundle's or the paper's value). */
    boolean hasPolicyFlags() {
        return encoderThreshold != null || imageThreshold != null || textThreshold != null || schedule != null
                || decoderThreshold != null || kvPolicy != null || encoderMode != null || noImageRelativeBias
                || decoderCriterion != null;
    }

    /** The policies of {@code --policy FILE}, or null without it. */
    ModelPolicies filePolicies() {
        return policyFile == null ? null : PolicyFile.read(policyFile, "--policy " + policyFile);
    }

    /**
     * The policy {@code task} runs with: {@code --policy FILE}, the model's {@code policy.json} or
     * the paper's, with the flags applied over it; {@code file} is {@link #filePolicies()}.
     */
    PolicyChoice choice(Task task, Model m, ModelPolicies file) {
        PolicyChoice base = PolicyChoice.resolve(task, null, file, m.policies());
        if (!hasPolicyFlags()) {
            return base;
        }
        ExitPolicy flagged;
        try {
            flagged = withFlags(base.policy());
        } catch (IllegalArgumentException | dev.mue.api.InvalidInputException e) {
            // the model and any policy file have been read: what is out of range is a flag's value
            throw MueCli.usage(command, e.getMessage());
        }
        // a policy changed by a flag is no longer the one a certificate speaks for
        return new PolicyChoice(flagged, "flags over " + base.source(), null);
    }

    /** {@code base} with the given flags applied. */
    ExitPolicy withFlags(ExitPolicy base) {
        ExitPolicy.Builder b = base.toBuilder();
        if (encoderThreshold != null) {
            b.encoderThreshold(encoderThreshold);
        }
        if (imageThreshold != null) {
            b.imageThreshold(imageThreshold);
        }
        if (textThreshold != null) {
            b.textThreshold(textThreshold);
        }
        DecoderSchedule s = base.decoderSchedule();
        if (schedule != null || decoderThreshold != null) {
            double theta = decoderThreshold != null ? decoderThreshold : s.theta();
            ScheduleKind kind = schedule != null ? schedule : kindOf(s);
            b.decoderSchedule(switch (kind) {
                case FIXED -> new DecoderSchedule.Fixed(theta);
                case DECAY -> s instanceof DecoderSchedule.Decay d && schedule == null
                        ? new DecoderSchedule.Decay(theta, d.beta(), d.tau())
                        : new DecoderSchedule.Decay(theta, DECAY_BETA, DECAY_TAU);
                case REFERENCE_DECAY -> new DecoderSchedule.ReferenceDecay(theta);
            });
        }
        if (kvPolicy != null) {
            b.kvPolicy(kvPolicy);
        }
        if (encoderMode != null) {
            b.encoderMode(encoderMode);
        }
        if (noImageRelativeBias) {
            b.imageRelativeBiasInEncoder(false);
        }
        if (decoderCriterion != null) {
            b.decoderCriterion(decoderCriterion);
        }
        return b.build();
    }

    private static ScheduleKind kindOf(DecoderSchedule s) {
        return switch (s) {
            case DecoderSchedule.Fixed f -> ScheduleKind.FIXED;
            case DecoderSchedule.Decay d -> ScheduleKind.DECAY;
            case DecoderSchedule.ReferenceDecay r -> ScheduleKind.REFERENCE_DECAY;
            // a theta given over a per-step table replaces the table by that one threshold
            case DecoderSchedule.Table t -> ScheduleKind.FIXED;
        };
    }

    /**
     * Beam search settings from {@code --beam}, {@code --max-length} and {@code --bos}, the bos
     * rule defaulting to model {@code m}'s conventions.
     */
    DecodingOptions decoding(Model m) {
        DecodingOptions d = DecodingOptions.captioning(m.config()).withBeamSize(beam).withMaxLength(maxLength);
        if (bos == null) {
            return d;
        }
        if (!bos.equals("ban") && !bos.equals("allow")) {
            throw MueCli.usage(command, "--bos must be ban or allow, got '" + bos + "'");
        }
        return d.withBanBos(bos.equals("ban"));
    }

    /** The shapes a session with these options compiles for (as {@link Mue.SessionBuilder#open()} does). */
    PlanShapes shapes(Model m) {
        PlanShapes s = PlanShapes.defaults(m.config());
        int need = maxLength + 1;
        if (s.maxDecoderTokens() < need) {
            if (m.config().maxPositions() < need) {
                throw MueCli.usage(command, "--max-length " + maxLength
                        + " needs more decoder positions than the model's " + m.config().maxPositions());
            }
            s = new PlanShapes(s.maxTextTokens(), need);
        }
        return s;
    }

    /** Opens a session: loads the model, compiles the plan, prepares the backend. */
    MueSession open() {
        validate();
        Model m = loadModel();
        ModelPolicies file = filePolicies();
        DecodingOptions d;
        PolicyChoice caption;
        PolicyChoice entail;
        try {
            d = decoding(m);
            caption = choice(Task.CAPTION, m, file);
            entail = choice(Task.ENTAIL, m, file);
        } catch (IllegalArgumentException | dev.mue.api.InvalidInputException e) {
            // only the flags vary here (the model and the policy file have been read): a bad value is a usage error
            throw MueCli.usage(command, e.getMessage());
        }
        return Mue.session().model(m).backend(backend).policy(Task.CAPTION, caption).policy(Task.ENTAIL, entail)
                .decoding(d).backendOptions(BackendOptions.defaults().withThreads(threads)).open();
    }

    /** Checks the values that need no model: each out-of-range one is a usage error (exit code 2). */
    void validate() {
        if (threads < 0 || threads > BackendOptions.MAX_THREADS) {
            throw MueCli.usage(command, "--threads must be 0 (one per core) to " + BackendOptions.MAX_THREADS + ", got "
                    + threads);
        }
        if (beam < 1) {
            throw MueCli.usage(command, "--beam must be 1 or more, got " + beam);
        }
        if (maxLength < 1) {
            throw MueCli.usage(command, "--max-length must be 1 or more, got " + maxLength);
        }
        if (bos != null && !bos.equals("ban") && !bos.equals("allow")) {
            throw MueCli.usage(command, "--bos must be ban or allow, got '" + bos + "'");
        }
        if (backend != null && !backend.equals("auto")) {
            List<String> known = dev.mue.api.spi.Backends.providers().stream().map(p -> p.id()).toList();
            if (!known.contains(backend)) {
                // an id no provider has is a mistyped flag; a known one that cannot start is a runtime failure
                throw MueCli.usage(command, "unknown backend '" + backend + "' for --backend; known backends: " + known);
            }
        }
    }
}
