package dev.mue.serve.http;

import dev.mue.serve.protocol.InferResponseWriter;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's graceful handler (while the server stops, it waits for the requests in flight and refuses
 * new ones) whose refusals are OIP error bodies: 503, {@code Retry-After}, {@code {"error": ...}},
 * and the connection closed.
 */
public final class DrainingHandler extends GracefulHandler {
    private final byte[] body = new InferResponseWriter().error("the server is shutting down");

    /** Wraps {@code handler}. */
    public DrainingHandler(Handler handler) {
        super(handler);
    }

    @Override
    protected void handleShutdownRejection(Request request, Response response, Callback callback) {
        response.setStatus(503);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, InferResponseWriter.JSON);
        response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, Integer.toString(body.length));
        response.write(true, ByteBuffer.wrap(body), callback);
    }
}
