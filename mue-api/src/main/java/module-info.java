/**
 * The public API of mue: model description and loading, exit policies, the backend SPI, the plan
 * types, text and image input, decoding, and the {@link dev.mue.api.MueException} hierarchy.
 *
 * <p>Backends are found with {@link java.util.ServiceLoader}: this module {@code uses}
 * {@link dev.mue.api.spi.BackendProvider} (each backend module {@code provides} one) and
 * {@link dev.mue.api.plan.PlanCompiler} (provided by {@code dev.mue.planner}).
 */
module dev.mue.api {
    requires transitive org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires jtokkit;
    requires transitive java.desktop;

    exports dev.mue.api;
    exports dev.mue.api.tensor;
    exports dev.mue.api.safetensors;
    exports dev.mue.api.image;
    exports dev.mue.api.text;
    exports dev.mue.api.model;
    exports dev.mue.api.policy;
    exports dev.mue.api.spi;
    exports dev.mue.api.plan;
    exports dev.mue.api.decode;

    uses dev.mue.api.spi.BackendProvider;
    uses dev.mue.api.plan.PlanCompiler;
}
