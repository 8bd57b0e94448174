/**
 * mue serve: an Open Inference Protocol v2 (REST) server for a model bundle's captioning and
 * visual-entailment tasks, with dynamic batching that keeps MuE's per-example exits.
 *
 * <p>Jetty 12 (core handler API, no servlets) serves HTTP on virtual threads; Jackson reads and
 * writes JSON; {@code jdk.unsupported} gives {@code sun.misc.Signal}, the one way for a Java process
 * to drain on SIGTERM and exit 0.
 */
module dev.mue.serve {
    requires transitive dev.mue.session;
    requires dev.mue.api;
    requires org.eclipse.jetty.server;
    requires org.eclipse.jetty.http;
    requires org.eclipse.jetty.io;
    requires org.eclipse.jetty.util;
    requires com.fasterxml.jackson.databind;
    requires org.slf4j;
    requires jdk.unsupported;

    exports dev.mue.serve;
}
