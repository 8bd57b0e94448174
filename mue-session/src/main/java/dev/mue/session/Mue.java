package dev.mue.session;

import dev.mue.api.GenerationResult;
import dev.mue.api.InvalidInputException;
import dev.mue.session.decode.DecodingOptions;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.policy.Task;
import dev.mue.api.spi.BackendOptions;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Entry point of the mue SDK.
 *
 * <pre>{@code
 * try (MueSession s = Mue.session().model(Path.of("models/default")).backend("java").open()) {
 *     GenerationResult r = s.caption(Path.of("samples/grid.png"));
 *     System.out.println(r.text() + " " + r.trace().layerReduction());
 * }
 * }</pre>
 */
public final class Mue {
    private Mue() {
    }

    /** A builder for a {@link MueSession}. */
    public static SessionBuilder session() {
        return new SessionBuilder();
    }

    /**
     * Mutable builder of a {@link MueSession}; {@link #open()} compiles the plan and prepares the backend.
     *
     * <p>Each task (captioning, entailment) runs with its own exit policy, chosen by
     * {@link PolicyChoice#resolve}: a policy given here explicitly, else one from
     * {@link #policies(ModelPolicies)} / {@link #policyFile(Path)}, else the model's own
     * ({@code policy.json} in its bundle), else the paper's appendix A values.
     */
    public static final class SessionBuilder {
        /** Source label of a policy given through {@link #policy(ExitPolicy)}. */
        public static final String API_SOURCE = "API";

        private Model model;
        private String backend;
        private PolicyChoice explicitAll;
        private final Map<Task, PolicyChoice> explicit = new EnumMap<>(Task.class);
        private ModelPolicies file;
        private DecodingOptions decoding;
        private BackendOptions backendOptions = BackendOptions.defaults();
        private PlanShapes shapes;
        private boolean truncateText;

        private SessionBuilder() {
        }

        /** Loads the model bundle in {@code dir}. */
        public SessionBuilder model(Path dir) {
            this.model = ModelBundle.load(dir);
            return this;
        }

        /** Uses an already loaded model. */
        public SessionBuilder model(Model m) {
            this.model = Objects.requireNonNull(m);
            return this;
        }

        /** Backend id ({@code java}, {@code torch}, {@code tf}); null or {@code auto} selects automatically. */
        public SessionBuilder backend(String id) {
            this.backend = id;
            return this;
        }

        /** The exit policy of every task, overriding any policy file and the model's own. */
        public SessionBuilder policy(ExitPolicy p) {
            this.explicitAll = new PolicyChoice(Objects.requireNonNull(p), API_SOURCE, null);
            return this;
        }

        /** The exit policy of one task, with the label traces show for it; overrides {@link #policy(ExitPolicy)}. */
        public SessionBuilder policy(Task task, PolicyChoice choice) {
            explicit.put(Objects.requireNonNull(task), Objects.requireNonNull(choice));
            return this;
        }

        /** Policies that override the model's own for the tasks they cover (e.g. a file the user named). */
        public SessionBuilder policies(ModelPolicies p) {
            this.file = Objects.requireNonNull(p);
            return this;
        }

        /** Reads a policy file ({@link PolicyFile}) and uses it as {@link #policies(ModelPolicies)}. */
        public SessionBuilder policyFile(Path f) {
            return policies(PolicyFile.read(f, "policy file " + f));
        }

        /**
         * Beam search settings, used as given; default {@link DecodingOptions#captioning()} with
         * the model's bos rule ({@code ModelConfig.Conventions.banBosInGeneration}).
         */
        public SessionBuilder decoding(DecodingOptions d) {
            this.decoding = Objects.requireNonNull(d);
            return this;
        }

        /** Backend creation options (threads, device). */
        public SessionBuilder backendOptions(BackendOptions o) {
            this.backendOptions = Objects.requireNonNull(o);
            return this;
        }

        /** Largest inputs to compile for; default {@link PlanShapes#defaults}. */
        public SessionBuilder shapes(PlanShapes s) {
            this.shapes = Objects.requireNonNull(s);
            return this;
        }

        /** Whether over-long text is truncated (true) or rejected (false, the default). */
        public SessionBuilder truncateText(boolean t) {
            this.truncateText = t;
            return this;
        }

        /** Compiles the plan, selects and prepares the backend. */
        public MueSession open() {
            if (model == null) {
                throw new InvalidInputException("no model given: call model(Path) or model(Model)");
            }
            DecodingOptions decoding = this.decoding != null ? this.decoding
                    : DecodingOptions.captioning(model.config());
            PlanShapes s = shapes != null ? shapes : PlanShapes.defaults(model.config());
            if (s.maxDecoderTokens() < decoding.maxLength() + 1) {
                s = new PlanShapes(s.maxTextTokens(), Math.min(model.config().maxPositions(), decoding.maxLength() + 1));
                if (s.maxDecoderTokens() < decoding.maxLength() + 1) {
                    throw new InvalidInputException("max length " + decoding.maxLength()
                            + " needs more decoder positions than the model's " + model.config().maxPositions());
                }
            }
            Map<Task, PolicyChoice> choices = new EnumMap<>(Task.class);
            for (Task t : Task.values()) {
                choices.put(t, PolicyChoice.resolve(t, explicit.getOrDefault(t, explicitAll), file, model.policies()));
            }
            return new MueSession(model, choices, decoding, s, backend, backendOptions, truncateText);
        }
    }
}
