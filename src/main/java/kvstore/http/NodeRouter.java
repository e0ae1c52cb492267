package kvstore.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import kvstore.core.Errors;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The routes both roles share, on vertx-web's {@link Router}: {@code /api/health},
 * {@code /api/status}, {@code /metrics} and the web client's files (through its
 * {@link StaticHandler}); each role adds its own {@code /api/...} routes. What the router cannot
 * answer in the seed's words stays out of it: the seed's {@code /} requests and the protocol's
 * paths are dispatched by the roles before the router, and a path the router does not know, or
 * a method it does not take, is answered {@code error: invalid request} (SPEC.md section 2), not
 * vertx-web's 404 or 405. docs/internals.md says which paths go where.
 */
public final class NodeRouter {
    private NodeRouter() {}

    /** What the shared routes show. */
    public interface Views {
        JsonObject status();

        boolean ready();

        /** Answers {@code GET /metrics} (Prometheus text). */
        void metrics(HttpServerRequest req);
    }

    /**
     * @param viewsNeedSecret a follower's status and metrics need the cluster secret; a leader's are open
     */
    public static Router create(Vertx vertx, Guard guard, boolean viewsNeedSecret, Views views) {
        Router r = Router.router(vertx);
        r.get("/api/health").handler(ctx -> {
            if (views.ready()) Replies.text(ctx.request(), 200, "ok");
            else Replies.text(ctx.request(), 503, "not ready");
        });
        // The page and its files, open to all. No browser cache of the page: it revalidates and
        // never runs a stale version after an upgrade; no other site may frame it (a click on COMMIT).
        StaticHandler files = StaticHandler.create("webroot").setIndexPage("index.html").setCachingEnabled(false)
                .setDefaultContentEncoding("UTF-8").setIncludeHidden(false).setDirectoryListing(false);
        r.route().method(HttpMethod.GET).method(HttpMethod.HEAD).handler(NodeRouter::pageHeaders).handler(files);
        if (viewsNeedSecret) {
            // A follower: everything else needs the cluster secret, checked before anything else (SPEC.md section 6).
            r.route().handler(ctx -> {
                if (guard.secretOk(ctx.request())) ctx.next();
                else Replies.text(ctx.request(), 401, Errors.UNAUTHORIZED);
            });
        }
        r.get("/api/status").handler(ctx -> Replies.json(ctx.request(), 200, views.status()));
        r.get("/metrics").handler(ctx -> views.metrics(ctx.request()));
        Handler<RoutingContext> invalid = ctx -> Replies.text(ctx.request(), 500, Errors.INVALID_REQUEST);
        r.errorHandler(404, invalid);
        r.errorHandler(405, invalid);
        r.errorHandler(400, invalid);
        r.errorHandler(500, ctx -> Replies.text(ctx.request(), 500, Errors.UNABLE));
        return r;
    }

    private static void pageHeaders(RoutingContext ctx) {
        ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
                .putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("X-Frame-Options", "DENY")
                .putHeader("Content-Security-Policy", "frame-ancestors 'none'");
        ctx.next();
    }

    /**
     * True when a path can go to the router: vertx-web answers a malformed escape in a path
     * ({@code /%zz}) with its own 400 before any route runs, where the seed's string is owed.
     */
    public static boolean routable(String path) {
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) != '%') continue;
            if (i + 2 >= path.length() || hex(path.charAt(i + 1)) < 0 || hex(path.charAt(i + 2)) < 0) return false;
        }
        return true;
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    /** Supplier adapter for status views. */
    public static Views views(Supplier<JsonObject> status, BooleanSupplier ready, Handler<HttpServerRequest> metrics) {
        return new Views() {
            @Override public JsonObject status() { return status.get(); }

            @Override public boolean ready() { return ready.getAsBoolean(); }

            @Override public void metrics(HttpServerRequest req) { metrics.handle(req); }
        };
    }
}
