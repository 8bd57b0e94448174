/**
 * The {@code mue} command: captioning and visual entailment with MuE exits, exit traces, plans,
 * backend listing, seeded model bundles, OFA checkpoint import and an Open Inference Protocol server.
 *
 * <p>The planner and the backends are not required here: {@code dev.mue.api} finds them through
 * {@link java.util.ServiceLoader}, and service binding resolves them from the module path.
 */
module dev.mue.cli {
    requires dev.mue.api;
    requires dev.mue.session;
    requires dev.mue.model.grid;
    requires dev.mue.planner;
    requires dev.mue.train;
    requires dev.mue.importer;
    requires dev.mue.serve;
    requires info.picocli;
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;

    opens dev.mue.cli to info.picocli;
}
