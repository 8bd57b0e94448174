/**
 * The HTTP side of the server, the only code that sees Jetty: {@link dev.mue.serve.http.OipHandler}
 * maps the OIP v2 REST routes and {@code /metrics} onto the served models, writes the OIP error
 * bodies with their statuses and the access log; {@link dev.mue.serve.http.DrainingHandler} holds
 * the requests in flight while the server stops and refuses new ones with an OIP 503.
 */
package dev.mue.serve.http;
