package kvstore.http;

import io.vertx.core.http.HttpServerOptions;
import kvstore.core.Limits;

import java.util.concurrent.TimeUnit;

/**
 * The limits every HTTP server of ours runs with (SPEC.md section 5): a request line just long
 * enough for a key and a value at their limits fully percent-encoded, small headers, and an
 * idle timeout (Vert.x has none by default) so abandoned connections are closed.
 * Anything over a limit gets Vert.x's 414 or 431 and a closed connection.
 */
public final class ServerOptions {
    private ServerOptions() {}

    public static final int MAX_HEADER_BYTES = 8192;
    public static final int IDLE_TIMEOUT_SECONDS = 30;

    public static HttpServerOptions forLimits(Limits limits) {
        return new HttpServerOptions()
                .setMaxInitialLineLength(limits.maxRequestLineBytes())
                .setMaxHeaderSize(MAX_HEADER_BYTES)
                .setMaxFormAttributeSize(0)
                .setIdleTimeout(IDLE_TIMEOUT_SECONDS)
                .setIdleTimeoutUnit(TimeUnit.SECONDS)
                .setTcpNoDelay(true)
                .setCompressionSupported(false)
                .setReuseAddress(true);
    }
}
