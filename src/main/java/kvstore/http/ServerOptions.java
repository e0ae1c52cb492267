package kvstore.http;

import io.vertx.core.http.HttpServerOptions;
import kvstore.core.Limits;

import java.util.concurrent.TimeUnit;

/**
 * The limits every HTTP server of ours runs with (SPEC.md section 5): a request line just long
 * enough for a key and a value at their limits fully percent-encoded, small headers, and an
 * idle timeout (Vert.x has none by default) so abandoned connections are closed.
 * Anything over a limit gets Vert.x's 414 or 431 and a closed connection. HTTP/2 over cleartext
 * (h2c, on by default in Vert.x 5: prior knowledge or {@code Upgrade: h2c}) is off: these limits
 * are HTTP/1's, and nothing of ours speaks HTTP/2. {@link Intake} adds what options cannot say.
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
                .setHttp2ClearTextEnabled(false)
                .setTcpNoDelay(true)
                .setCompressionSupported(false)
                .setReuseAddress(true);
    }
}
