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

    /** The version header of SPEC.md section 11. */
    public static final CharSequence VERSION = HttpHeaders.createOptimized("X-KV-Version");

    /** Sets {@code X-KV-Version} on the answer about to be written (nothing for a negative version). */
    public static void version(HttpServerRequest req, long version) {
        if (version >= 0) req.response().putHeader(VERSION, String.valueOf(version));
    }

    /** Tells the leader which view this follower has logged ({@code X-KV-View}), so it can send a newer one. */
    public static void viewHeader(HttpServerRequest req, kvstore.core.view.View view) {
        req.response().putHeader(VIEW, view == null ? "0" : String.valueOf(view.number()));
    }

    public static final CharSequence VIEW = HttpHeaders.createOptimized("X-KV-View");

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

    /** A JSON document the core wrote itself (a transaction's answer). */
    public static void jsonText(HttpServerRequest req, int status, String body) {
        req.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                .putHeader(HttpHeaders.CACHE_CONTROL, NO_STORE).end(body);
    }

    public static void jsonStatus(HttpServerRequest req, int status, JsonObject body) {
        json(req, status, body);
    }

    public static void json(HttpServerRequest req, int status, JsonObject body) {
        req.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                .putHeader(HttpHeaders.CACHE_CONTROL, NO_STORE).end(body.encode());
    }
}
