/**
 * The contracts of mue: model description and loading, exit policies, the backend SPI, the plan
 * types, text tokenisation, results and traces, and the {@link dev.mue.api.MueException}
 * hierarchy. The session facade ({@code Mue}, {@code MueSession}, beam search, image
 * preprocessing) lives above the planner in {@code dev.mue.session}, so this module needs neither
 * the planner nor {@code java.desktop}.
 *
 * <p>Backends are found with {@link java.util.ServiceLoader}: this module {@code uses}
 * {@link dev.mue.api.spi.BackendProvider} (each backend module {@code provides} one).
 */
module dev.mue.api {
    requires transitive org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires jtokkit;

    exports dev.mue.api;
    exports dev.mue.api.tensor;
    exports dev.mue.api.safetensors;
    exports dev.mue.api.text;
    exports dev.mue.api.model;
    exports dev.mue.api.policy;
    exports dev.mue.api.spi;
    exports dev.mue.api.plan;
    exports dev.mue.api.exit;
    exports dev.mue.api.layer;

    uses dev.mue.api.spi.BackendProvider;
    uses dev.mue.api.exit.ExitCriterion;
}
