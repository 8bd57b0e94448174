package dev.mue.api;

import dev.mue.api.decode.DecodingOptions;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.spi.BackendOptions;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Entry point of the mue SDK.
 *
 * <pre>{@code
 * try (MueSession s = Mue.session().model(Path.of("models/default")).backend("java")
 *         .policy(ExitPolicy.paper()).open()) {
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

    /** Mutable builder of a {@link MueSession}; {@link #open()} compiles the plan and prepares the backend. */
    public static final class SessionBuilder {
        private Model model;
        private String backend;
        private ExitPolicy policy = ExitPolicy.paper();
        private DecodingOptions decoding = DecodingOptions.captioning();
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

        /** The exit policy; default {@link ExitPolicy#paper()}. */
        public SessionBuilder policy(ExitPolicy p) {
            this.policy = Objects.requireNonNull(p);
            return this;
        }

        /** Beam search settings; default {@link DecodingOptions#captioning()}. */
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
            PlanShapes s = shapes != null ? shapes : PlanShapes.defaults(model.config());
            if (s.maxDecoderTokens() < decoding.maxLength() + 1) {
                s = new PlanShapes(s.maxTextTokens(), Math.min(model.config().maxPositions(), decoding.maxLength() + 1));
                if (s.maxDecoderTokens() < decoding.maxLength() + 1) {
                    throw new InvalidInputException("max length " + decoding.maxLength()
                            + " needs more decoder positions than the model's " + model.config().maxPositions());
                }
            }
            return new MueSession(model, policy, decoding, s, backend, backendOptions, truncateText);
        }
    }
}
