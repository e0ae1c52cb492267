package kvstore.http;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import kvstore.core.Errors;
import kvstore.core.Limits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * What every request passes before it reaches a node's routes (SPEC.md section 5: "under any
 * malformed input a node answers with the documented error or closes that connection, and
 * keeps serving everyone else"). One per HTTP server, on that server's event loop.
 *
 * <h2>What Vert.x 5.0.7 does by itself, and what this adds</h2>
 * <ul>
 *   <li>Request line and headers: Netty's decoder enforces {@link ServerOptions}' limits and
 *       Vert.x answers 414 or 431 and closes. A header <em>count</em> is bounded by the header
 *       size (10,000 headers do not fit in 8 KB). Bytes that are not HTTP at all got Vert.x's
 *       400 with an empty body; here they get 500 {@code error: invalid request}, and the
 *       connection is closed.</li>
 *   <li>Bodies: Vert.x reads and discards a body nobody asked for, however large, and keeps the
 *       connection. Our API never takes a body, so a declared {@code Content-Length} over
 *       {@link #MAX_BODY_BYTES} gets 413 before the request runs, and the connection is closed;
 *       a chunked body is counted, and past the limit it gets 413 and a closed connection. A
 *       request with a body runs only once its body is complete, so one refused has changed
 *       nothing.</li>
 *   <li>Timeouts: Vert.x has none by default. {@link ServerOptions} sets an idle timeout (no
 *       byte in either direction), which does not stop a client that sends one byte every few
 *       seconds. So a connection must also deliver a whole request head within
 *       {@link #FIRST_REQUEST_MILLIS} of opening, its body (if any) within
 *       {@link #NEXT_REQUEST_MILLIS} of its head, and the next head within
 *       {@link #NEXT_REQUEST_MILLIS} of the previous answer. A request being answered is
 *       never cut: our own timeouts bound that. A sweep once a second closes the late ones.</li>
 *   <li>HTTP/1.1 without {@code Host} is invalid (RFC 9112 section 3.2): 500
 *       {@code error: invalid request}. HTTP/1.0 without {@code Host} is legal and served (no
 *       browser sends it, so it cannot carry a DNS-rebinding attack). Another HTTP version
 *       (e.g. {@code HTTP/9.9}, or HTTP/2's {@code PRI *} preface) gets Vert.x's own 501 with
 *       no body and a closed connection, before any handler of ours runs.</li>
 *   <li>Pipelining works: Vert.x answers pipelined requests one at a time, in order, and stops
 *       reading the socket while one is in progress, so a pipeline costs no memory.</li>
 *   <li>HTTP/2 (h2c, on by default in Vert.x) is off in {@link ServerOptions}: the limits above
 *       are HTTP/1's, and nothing of ours speaks HTTP/2.</li>
 *   <li>Connections: at most {@link #MAX_CONNECTIONS} open per server; Vert.x has no limit.</li>
 * </ul>
 *
 * <p>Per request this costs a map lookup and three header lookups; no allocation unless the
 * request carries a body.
 */
public final class Intake {
    /** The largest request body we read (and ignore); our API never needs one. */
    public static final int MAX_BODY_BYTES = 4096;
    /** A new connection must deliver a whole request head within this. */
    public static final long FIRST_REQUEST_MILLIS = 10_000;
    /** A body within this of its head; after an answer, the next request head within this. */
    public static final long NEXT_REQUEST_MILLIS = ServerOptions.IDLE_TIMEOUT_SECONDS * 1_000L;
    /**
     * Open connections per server. Past it a new connection is closed at once, so that a flood
     * of idle sockets cannot take every file descriptor (the log must still open files and the
     * leader must still reach its followers); the head timeout clears the flood within seconds.
     */
    public static final int MAX_CONNECTIONS = 4096;
    private static final long SWEEP_MILLIS = 1_000;
    private static final long WARN_EVERY_NANOS = 60_000_000_000L;
    private static final Logger LOG = LoggerFactory.getLogger(Intake.class);

    private final Handler<HttpServerRequest> routes;
    private final java.util.function.Predicate<HttpServerRequest> readsItsBody;
    private final long firstNanos;
    private final long nextNanos;
    private final int maxConnections;
    private long refusedSinceWarning;
    private long lastWarningNanos = System.nanoTime() - WARN_EVERY_NANOS;
    private final IdentityHashMap<HttpConnection, Watch> open = new IdentityHashMap<>();

    /** What the sweep knows about one connection. */
    private static final class Watch {
        final HttpConnection connection;
        final long openedNanos;
        HttpServerRequest last;     // the last request whose head arrived
        long lastNanos;             // when it arrived
        HttpServerRequest answered; // the last request the sweep saw answered
        long answeredSeenNanos;

        Watch(HttpConnection connection, long openedNanos) {
            this.connection = connection;
            this.openedNanos = openedNanos;
        }
    }

    Intake(Handler<HttpServerRequest> routes, java.util.function.Predicate<HttpServerRequest> readsItsBody,
           long firstMillis, long nextMillis, int maxConnections) {
        this.routes = routes;
        this.readsItsBody = readsItsBody;
        this.maxConnections = maxConnections;
        this.firstNanos = firstMillis * 1_000_000L;
        this.nextNanos = nextMillis * 1_000_000L;
    }

    /**
     * An HTTP server with our limits in front of {@code routes}. Call it from the verticle's
     * start: the sweep timer belongs to that deployment and stops with it.
     */
    public static HttpServer create(Vertx vertx, Limits limits, Handler<HttpServerRequest> routes) {
        return create(vertx, limits, routes, req -> false);
    }

    /**
     * The same, except that requests matching {@code readsItsBody} (the leader's batches to a
     * follower) go straight to their route, which reads the body itself within its own limit.
     */
    public static HttpServer create(Vertx vertx, Limits limits, Handler<HttpServerRequest> routes,
                                    java.util.function.Predicate<HttpServerRequest> readsItsBody) {
        return create(vertx, limits, routes, readsItsBody, FIRST_REQUEST_MILLIS, NEXT_REQUEST_MILLIS, MAX_CONNECTIONS);
    }

    static HttpServer create(Vertx vertx, Limits limits, Handler<HttpServerRequest> routes, long firstMillis, long nextMillis,
                             int maxConnections) {
        return create(vertx, limits, routes, req -> false, firstMillis, nextMillis, maxConnections);
    }

    /** The same with other timeouts and connection limit (tests). */
    static HttpServer create(Vertx vertx, Limits limits, Handler<HttpServerRequest> routes,
                             java.util.function.Predicate<HttpServerRequest> readsItsBody, long firstMillis, long nextMillis,
                             int maxConnections) {
        Intake intake = new Intake(routes, readsItsBody, firstMillis, nextMillis, maxConnections);
        HttpServer server = vertx.createHttpServer(ServerOptions.forLimits(limits))
                .connectionHandler(intake::connected)
                .invalidRequestHandler(Intake::invalid)
                .requestHandler(intake::request);
        vertx.setPeriodic(SWEEP_MILLIS, t -> intake.sweep(System.nanoTime()));
        return server;
    }

    /* --- Requests --- */

    void request(HttpServerRequest req) {
        Watch w = open.get(req.connection());
        if (w != null) {
            w.last = req;
            w.lastNanos = System.nanoTime();
        }
        if (req.version() != HttpVersion.HTTP_1_0 && req.getHeader(HttpHeaders.HOST) == null) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        String encoding = req.getHeader(HttpHeaders.TRANSFER_ENCODING);
        if ((length != null || encoding != null) && !readsItsBody.test(req)) {
            long declared = length == null ? 0 : contentLength(length);
            if (declared < 0 || declared > MAX_BODY_BYTES) {
                closeAfter(req.response().setStatusCode(413), req);
                return;
            }
            if (declared > 0 || encoding != null) {
                new BodyGate(req, this).open();
                return;
            }
        }
        route(req);
    }

    /**
     * Hands the request to the routes. A route that throws is a bug: it is logged once with its
     * cause and the client gets {@code error: unable to process request} rather than a
     * connection that hangs until the idle timeout.
     */
    void route(HttpServerRequest req) {
        try {
            routes.handle(req);
        } catch (RuntimeException e) {
            LOG.error("unexpected failure handling a {} request", req.method(), e);
            try {
                if (!req.response().ended() && !req.response().headWritten()) Replies.text(req, 500, Errors.UNABLE);
                else req.connection().close();
            } catch (RuntimeException ignored) {
                req.connection().close();
            }
        }
    }

    /** A decimal Content-Length, or -1 when it is not one (Netty has checked it already). */
    static long contentLength(String s) {
        if (s.isEmpty() || s.length() > 18) return -1;
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return -1;
            v = v * 10 + (c - '0');
        }
        return v;
    }

    /**
     * A request that carries a body runs only once the whole body has arrived within the limit
     * (it is then ignored). Past the limit the answer is 413 and the connection is closed, and
     * the request never runs: a chunked PUT of 20 MB changes nothing.
     */
    private static final class BodyGate implements Handler<Buffer> {
        private final HttpServerRequest req;
        private final Intake intake;
        private long seen;
        private boolean refused;

        BodyGate(HttpServerRequest req, Intake intake) {
            this.req = req;
            this.intake = intake;
        }

        void open() {
            req.exceptionHandler(e -> { }); // the peer went away mid-body: nothing to answer
            req.handler(this);
            // A client that asked first (Expect: 100-continue) and is within the limit may send;
            // over the limit it got its 413 without sending anything.
            if (req.headers().contains(HttpHeaders.EXPECT, HttpHeaders.CONTINUE, true)) req.response().writeContinue();
            req.endHandler(v -> {
                if (!refused) intake.route(req);
            });
        }

        @Override
        public void handle(Buffer chunk) {
            if (refused) return;
            seen += chunk.length();
            if (seen > MAX_BODY_BYTES) {
                refused = true;
                closeAfter(req.response().setStatusCode(413), req);
            }
        }
    }

    /** HTTP that Netty could not decode: 414, 431, or 500 invalid request; then close. */
    static void invalid(HttpServerRequest req) {
        Throwable cause = req.decoderResult().cause();
        HttpServerResponse r = req.response();
        if (cause instanceof TooLongHttpLineException) {
            closeAfter(r.setStatusCode(414), req);
        } else if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
            closeAfter(r.setStatusCode(431), req);
        } else {
            r.setStatusCode(500).putHeader(HttpHeaders.CONTENT_TYPE, Replies.TEXT)
                    .putHeader(HttpHeaders.CONNECTION, HttpHeaderValues.CLOSE)
                    .end(Errors.INVALID_REQUEST)
                    .onComplete(ar -> req.connection().close());
        }
    }

    /** Ends the answer with no body, says the connection closes, and closes it. */
    private static void closeAfter(HttpServerResponse r, HttpServerRequest req) {
        r.putHeader(HttpHeaders.CONNECTION, HttpHeaderValues.CLOSE).end().onComplete(ar -> req.connection().close());
    }

    /* --- Connections and the sweep --- */

    void connected(HttpConnection c) {
        long now = System.nanoTime();
        if (open.size() >= maxConnections) {
            c.close();
            refusedSinceWarning++;
            if (now - lastWarningNanos >= WARN_EVERY_NANOS) {
                LOG.warn("{} open connections, the limit: closing new ones ({} so far)", open.size(), refusedSinceWarning);
                lastWarningNanos = now;
                refusedSinceWarning = 0;
            }
            return;
        }
        open.put(c, new Watch(c, now));
        c.closeHandler(v -> open.remove(c));
    }

    /** Closes the connections that are late with a request head (or the rest of a body). */
    void sweep(long now) {
        if (open.isEmpty()) return;
        List<HttpConnection> late = null;
        for (Watch w : open.values()) {
            boolean isLate;
            if (w.last == null) {
                isLate = now - w.openedNanos > firstNanos;
            } else if (!w.last.isEnded() && !w.last.response().ended()) {
                isLate = now - w.lastNanos > nextNanos; // its body is still arriving
            } else if (w.last.response().ended()) {
                if (w.answered != w.last) {
                    w.answered = w.last;
                    w.answeredSeenNanos = now;
                }
                isLate = now - w.answeredSeenNanos > nextNanos;
            } else {
                isLate = false; // being answered: our own timeouts bound that
            }
            if (isLate) {
                if (late == null) late = new ArrayList<>();
                late.add(w.connection);
            }
        }
        if (late != null) for (HttpConnection c : late) c.close();
    }

}
