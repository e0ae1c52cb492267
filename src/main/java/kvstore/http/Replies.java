package kvstore.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/** Writing answers: every body is {@code text/plain; charset=utf-8} except JSON and static files. */
public final class Replies {
    private Replies() {}

    public static final CharSequence TEXT = HttpHeaders.createOptimized("text/plain; charset=utf-8");
    public static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
    private static final CharSequence NO_STORE = HttpHeaders.createOptimized("no-store");

    public static void text(HttpServerRequest req, int status, String body) {
        HttpServerResponse r = req.response().setStatusCode(status);
        if (status == 204) {
            r.end();
            return;
        }
        r.putHeader(HttpHeaders.CONTENT_TYPE, TEXT).end(body == null ? "" : body);
    }

    public static void bytes(HttpServerRequest req, int status, byte[] body) {
        req.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, TEXT).end(Buffer.buffer(body));
    }

    public static void json(HttpServerRequest req, int status, JsonObject body) {
        req.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                .putHeader(HttpHeaders.CACHE_CONTROL, NO_STORE).end(body.encode());
    }
}
