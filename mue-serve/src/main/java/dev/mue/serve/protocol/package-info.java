/**
 * The Open Inference Protocol v2 (KServe / Triton, REST) as bytes and records, without any HTTP
 * library: {@link dev.mue.serve.protocol.InferRequestReader} parses inference requests (JSON and
 * Triton's binary-data extension), {@link dev.mue.serve.protocol.InferResponseWriter} writes
 * responses, metadata and the {@code {"error": "..."}} body, and two exceptions carry the HTTP
 * status of a refusal: {@link dev.mue.serve.protocol.RequestException} (the request's fault: 400,
 * 404, 405, 413) and {@link dev.mue.serve.protocol.UnavailableException} (the server's state: 503).
 */
package dev.mue.serve.protocol;
