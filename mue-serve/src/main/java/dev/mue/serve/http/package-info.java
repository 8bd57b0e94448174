/**
 * The HTTP side of the server, the only code that sees Jetty: {@link dev.mue.serve.http.OipHandler}
 * maps the OIP v2 REST routes and {@code /metrics} onto the served models, writes the OIP error
 * bodies with their statuses and the access log.
 */
package dev.mue.serve.http;
