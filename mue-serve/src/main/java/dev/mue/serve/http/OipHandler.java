package dev.mue.serve.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mue.api.InvalidInputException;
import dev.mue.serve.infer.ServedModel;
import dev.mue.serve.metrics.Registry;
import dev.mue.serve.metrics.ServeMetrics;
import dev.mue.serve.protocol.InferRequest;
import dev.mue.serve.protocol.InferRequestReader;
import dev.mue.serve.protocol.InferResponseWriter;
import dev.mue.serve.protocol.RequestException;
import dev.mue.serve.protocol.UnavailableException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OIP v2 REST routes on Jetty's core handler API: health ({@code /v2/health/live},
 * {@code /v2/health/ready}), server metadata ({@code /v2}), model metadata and readiness
 * ({@code /v2/models/{model}[/versions/1][/ready]}), inference ({@code POST .../infer}) and
 * {@code GET /metrics}.
 *
 * <p>Every refusal is an OIP error body {@code {"error": "..."}} with its status: 400 for a bad
 * request, 404 for an unknown model or route, 405 for a wrong method, 413 for a body over the limit
 * (checked against Content-Length first, then while reading), 503 with {@code Retry-After} when the
 * queue is full, the deadline passed or the server drains, 500 for a failure of the server itself
 * (logged with its stack trace). Each request leaves one access-log line (logger
 * {@code dev.mue.serve.access}) and, for inference, a sample in the request metrics.
 *
 * <p>The handler blocks while a request waits for its batch; the server runs it on virtual threads.
 */
public final class OipHandler extends Handler.Abstract {
    private static final Logger ACCESS = LoggerFactory.getLogger("dev.mue.serve.access");
    private static final Logger LOG = LoggerFactory.getLogger(OipHandler.class);
    private static final int INTERNAL_ERROR = 500;
    private static final int OK = 200;

    private final Map<String, ServedModel<?, ?>> models;
    private final ServeMetrics metrics;
    private final InferRequestReader reader;
    private final InferResponseWriter writer = new InferResponseWriter();
    private final long maxBodyBytes;
    private final long timeoutNanos;
    private final BooleanSupplier ready;
    private final String serverVersion;
    private final AtomicInteger inFlight = new AtomicInteger();

    /**
     * @param models        the served models by name
     * @param maxBodyBytes  the largest request body accepted
     * @param timeoutMillis each inference request's deadline, from its arrival
     * @param ready         whether the server takes inference requests (false while it drains)
     * @param serverVersion reported by server metadata
     */
    public OipHandler(Map<String, ServedModel<?, ?>> models, ServeMetrics metrics, long maxBodyBytes, long timeoutMillis,
            BooleanSupplier ready, String serverVersion) {
        this.models = Map.copyOf(models);
        this.metrics = metrics;
        this.maxBodyBytes = maxBodyBytes;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.ready = ready;
        this.serverVersion = serverVersion;
        this.reader = new InferRequestReader((int) Math.min(Integer.MAX_VALUE - 16, maxBodyBytes));
        metrics.inFlight(inFlight::get);
    }

    /** What one route answered, for the response and the access log. */
    private record Reply(int status, String contentType, byte[] body, int jsonLength, int retryAfter, String model,
            String note) {
        static Reply json(int status, byte[] body) {
            return new Reply(status, InferResponseWriter.JSON, body, -1, -1, null, null);
        }
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long start = System.nanoTime();
        String method = request.getMethod();
        String path = Request.getPathInContext(request);
        inFlight.incrementAndGet();
        Reply reply;
        String model = null;
        try {
            List<String> parts = segments(path);
            model = inferModel(parts);
            reply = route(method, parts, path, request, start);
        } catch (RequestException e) {
            reply = error(e.status(), e.getMessage(), model);
        } catch (UnavailableException e) {
            reply = new Reply(UnavailableException.SERVICE_UNAVAILABLE, InferResponseWriter.JSON,
                    writer.error(e.getMessage()), -1, e.retryAfterSeconds(), model, null);
        } catch (InvalidInputException e) {
            reply = error(RequestException.BAD_REQUEST, e.getMessage(), model);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reply = new Reply(UnavailableException.SERVICE_UNAVAILABLE, InferResponseWriter.JSON,
                    writer.error("the server is shutting down"), -1, 1, model, null);
        } catch (RuntimeException | Error e) {
            LOG.error("{} {} failed", method, path, e);
            reply = error(INTERNAL_ERROR, "internal error: " + e, model);
        } finally {
            inFlight.decrementAndGet();
        }
        send(response, callback, reply);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (reply.model() != null) {
            metrics.request(reply.model(), reply.status(), seconds);
        }
        ACCESS.info("{} \"{} {}\" {} {}B {}ms{}{}", Request.getRemoteAddr(request), method, path, reply.status(),
                reply.body().length, String.format(java.util.Locale.ROOT, "%.1f", seconds * 1000),
                reply.model() == null ? "" : " model=" + reply.model(), reply.note() == null ? "" : " " + reply.note());
        return true;
    }

    private Reply error(int status, String message, String model) {
        return new Reply(status, InferResponseWriter.JSON, writer.error(message), -1, -1, model, null);
    }

    private void send(Response response, Callback callback, Reply reply) {
        response.setStatus(reply.status());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, reply.contentType());
        if (reply.jsonLength() >= 0) {
            response.getHeaders().put(InferRequestReader.HEADER_LENGTH, Integer.toString(reply.jsonLength()));
        }
        if (reply.retryAfter() >= 0) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, Integer.toString(reply.retryAfter()));
        }
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, Long.toString(reply.body().length));
        response.write(true, ByteBuffer.wrap(reply.body()), callback);
    }

    private static List<String> segments(String path) {
        String p = path == null ? "" : path;
        while (p.endsWith("/") && p.length() > 1) {
            p = p.substring(0, p.length() - 1);
        }
        return List.of(p.startsWith("/") ? p.substring(1).split("/", -1) : p.split("/", -1));
    }

    /** The model an inference route names (for metrics), else null. */
    private String inferModel(List<String> parts) {
        int n = parts.size();
        if (n >= 4 && parts.get(0).equals("v2") && parts.get(1).equals("models") && parts.get(n - 1).equals("infer")
                && models.containsKey(parts.get(2))) {
            return parts.get(2);
        }
        return null;
    }

    private Reply route(String method, List<String> parts, String path, Request request, long start)
            throws InterruptedException {
        if (parts.equals(List.of("metrics"))) {
            requireMethod(method, "GET", path);
            return new Reply(OK, Registry.CONTENT_TYPE, metrics.scrape().getBytes(StandardCharsets.UTF_8), -1, -1, null,
                    null);
        }
        if (parts.isEmpty() || !parts.get(0).equals("v2")) {
            throw new RequestException(RequestException.NOT_FOUND, "no route " + path + "; the OIP routes are under /v2");
        }
        if (parts.size() == 1) {
            requireMethod(method, "GET", path);
            return Reply.json(OK, serverMetadata());
        }
        if (parts.size() == 3 && parts.get(1).equals("health")) {
            requireMethod(method, "GET", path);
            return switch (parts.get(2)) {
                case "live" -> Reply.json(OK, writer.bytes(writer.object().put("live", true)));
                case "ready" -> readiness();
                default -> throw new RequestException(RequestException.NOT_FOUND, "no route " + path);
            };
        }
        if (parts.size() >= 3 && parts.get(1).equals("models")) {
            ServedModel<?, ?> m = models.get(parts.get(2));
            if (m == null) {
                throw new RequestException(RequestException.NOT_FOUND, "no model '" + parts.get(2) + "'; this server has "
                        + String.join(", ", models.keySet().stream().sorted().toList()));
            }
            List<String> rest = parts.subList(3, parts.size());
            if (rest.size() >= 2 && rest.get(0).equals("versions")) {
                if (!rest.get(1).equals(ServedModel.VERSION)) {
                    throw new RequestException(RequestException.NOT_FOUND, "model '" + m.name() + "' has no version '"
                            + rest.get(1) + "'; it has version " + ServedModel.VERSION);
                }
                rest = rest.subList(2, rest.size());
            }
            if (rest.isEmpty()) {
                requireMethod(method, "GET", path);
                return Reply.json(OK, writer.modelMetadata(m.name(), List.of(ServedModel.VERSION), "mue", m.inputs(),
                        m.outputs(), m.metadataParameters()));
            }
            if (rest.equals(List.of("ready"))) {
                requireMethod(method, "GET", path);
                return readiness();
            }
            if (rest.equals(List.of("infer"))) {
                requireMethod(method, "POST", path);
                return infer(m, request, start);
            }
        }
        throw new RequestException(RequestException.NOT_FOUND, "no route " + path);
    }

    private Reply readiness() {
        boolean r = ready.getAsBoolean();
        return Reply.json(r ? OK : UnavailableException.SERVICE_UNAVAILABLE, writer.bytes(writer.object().put("ready", r)));
    }

    private byte[] serverMetadata() {
        ObjectNode o = writer.object();
        o.put("name", "mue");
        o.put("version", serverVersion);
        o.putArray("extensions").add("binary_tensor_data");
        return writer.bytes(o);
    }

    private static void requireMethod(String method, String allowed, String path) {
        if (!method.equals(allowed)) {
            throw new RequestException(RequestException.METHOD_NOT_ALLOWED, path + " takes " + allowed + ", not " + method);
        }
    }

    private Reply infer(ServedModel<?, ?> m, Request request, long start) throws InterruptedException {
        if (!ready.getAsBoolean()) {
            throw new UnavailableException("the server is shutting down", 1);
        }
        byte[] body = body(request);
        InferRequest r = reader.read(body, request.getHeaders().get(InferRequestReader.HEADER_LENGTH));
        ServedModel.Answer a = m.infer(r, start + timeoutNanos);
        InferResponseWriter.Encoded e = writer.response(m.name(), ServedModel.VERSION, r.id(), a.parameters(), a.outputs(),
                ServedModel.binaryNames(a));
        return new Reply(OK, e.contentType(), e.body(), e.jsonLength(), -1, m.name(),
                "elements=" + a.outputs().get(0).shape()[0] + " batch=" + a.parameters().get("batch_size"));
    }

    private byte[] body(Request request) {
        long declared = request.getLength();
        byte[] buf = new byte[65536];
        if (declared > maxBodyBytes) {
            try (InputStream in = Request.asInputStream(request)) {
                discard(in, buf, Math.min(declared, 2 * maxBodyBytes));
            } catch (IOException e) {
                // The client went away; the 413 below is all there is to say.
            }
            throw new RequestException(RequestException.PAYLOAD_TOO_LARGE, "request body of " + declared
                    + " bytes is over this server's limit of " + maxBodyBytes + " (--max-body-bytes)");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(declared > 0 ? (int) declared : 8192);
        try (InputStream in = Request.asInputStream(request)) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (out.size() + (long) n > maxBodyBytes) {
                    discard(in, buf, 2 * maxBodyBytes - out.size() - n);
                    throw new RequestException(RequestException.PAYLOAD_TOO_LARGE, "request body is over this server's"
                            + " limit of " + maxBodyBytes + " bytes (--max-body-bytes)");
                }
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            throw new RequestException(RequestException.BAD_REQUEST, "cannot read the request body: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    /**
     * Reads and drops at most {@code limit} more bytes of an oversized body before the 413 is sent
     * (the callers stop at twice {@code maxBodyBytes} in all). Closing a connection with the client's
     * data still unread makes TCP reset it, and the reset can reach the client before it reads the
     * response, which it then never sees; a body more than twice the limit is not worth reading, and
     * that connection is closed as it is.
     */
    private static void discard(InputStream in, byte[] buf, long limit) throws IOException {
        long left = limit;
        int n;
        while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) >= 0) {
            left -= n;
        }
    }
}
