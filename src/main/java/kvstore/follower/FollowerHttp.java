package kvstore.follower;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.core.KeyRequest;
import kvstore.core.Keys;
import kvstore.node.NodeSettings;
import kvstore.core.Op;
import kvstore.core.Params;
import kvstore.core.TxId;
import kvstore.core.tpc.Batch;
import kvstore.core.tpc.CopyWire;
import kvstore.core.tpc.Participant;
import kvstore.http.Guard;
import kvstore.http.Replies;
import kvstore.http.NodeRouter;
import io.vertx.ext.web.Router;
import kvstore.http.KeysQuery;

import java.util.ArrayList;
import java.util.List;

/**
 * A follower's HTTP API: the participant API of SPEC.md section 3 (the seed's, plus {@code tx}
 * and {@code epoch}), the leader's health check, and the views every node has. Parsing and
 * validation happen here; every decision is the {@link Participant}'s.
 *
 * <p>With a cluster secret, everything but the page, static files and {@code /api/health}
 * needs {@code X-KV-Secret} (SPEC.md section 6).
 */
final class FollowerHttp {
    private final FollowerVerticle follower;
    private final NodeSettings settings;
    private final Guard guard;
    private final Router router;
    private final io.vertx.core.Vertx vertx;
    private final CopyAhead copyAhead;

    FollowerHttp(io.vertx.core.Vertx vertx, FollowerVerticle follower, NodeSettings settings) {
        this.vertx = vertx;
        this.follower = follower;
        this.copyAhead = new CopyAhead(follower::participant);
        this.settings = settings;
        this.guard = new Guard(settings.secret(), null, settings.host(), settings.advertise());
        this.router = routes(vertx);
    }

    /**
     * The seed's participant requests ({@code /} with a key, {@code /commit}, {@code /abort})
     * and the leader's protocol paths ({@code /tpc/...}) are answered here; the page, health,
     * status, metrics and {@code /api/keys} go to the router ({@link NodeRouter}).
     */
    void handle(HttpServerRequest req) {
        if (!guard.browserSafe(req)) {
            Replies.text(req, 403, Errors.UNAUTHORIZED);
            return;
        }
        String path = req.path();
        HttpMethod method = req.method();
        Params p = path.equals("/") ? Params.parse(req.query()) : null;
        boolean page = path.equals("/") && method == HttpMethod.GET && p.count("key") == 0 && !p.malformed();
        if (!page && !PROTOCOL_PATHS.contains(path)) {
            if (NodeRouter.routable(path)) router.handle(req);
            else if (guard.secretOk(req)) Replies.text(req, 500, Errors.INVALID_REQUEST);
            else Replies.text(req, 401, Errors.UNAUTHORIZED);
            return;
        }
        if (page) {
            router.handle(req);
            return;
        }
        follower.metrics().watch(req, path, method);
        if (!guard.secretOk(req)) {
            Replies.text(req, 401, Errors.UNAUTHORIZED);
            return;
        }
        if (!follower.recovered()) {
            Replies.text(req, 503, Errors.UNABLE);
            return;
        }
        if (p == null) p = Params.parse(req.query());
        switch (path) {
            case "/" -> {
                if (method == HttpMethod.GET) read(req, p);
                else if (method == HttpMethod.PUT) prepare(req, Op.PUT, p);
                else if (method == HttpMethod.DELETE) prepare(req, Op.DELETE, p);
                else Replies.text(req, 500, Errors.INVALID_REQUEST);
            }
            case "/commit" -> decide(req, method, p, true);
            case "/abort" -> decide(req, method, p, false);
            case "/tpc/check" -> check(req, method, p);
            case "/tpc/batch" -> batch(req, method, p);
            case "/tpc/copy" -> copy(req, method, p);
            default -> Replies.text(req, 500, Errors.INVALID_REQUEST);
        }
    }

    private static final java.util.Set<String> PROTOCOL_PATHS = java.util.Set.of("/", "/commit", "/abort", "/tpc/check", "/tpc/batch", "/tpc/copy");

    /** The follower's routes on the shared router: its views and its key browser, behind the secret. */
    private Router routes(io.vertx.core.Vertx vertx) {
        Router r = NodeRouter.create(vertx, guard, true, NodeRouter.views(follower::status, follower::ready,
                req -> follower.metrics().scrape(req)));
        r.get("/api/keys").handler(ctx -> {
            if (!follower.recovered()) Replies.text(ctx.request(), 503, Errors.UNABLE);
            else keys(ctx.request(), ctx.request().method());
        });
        return r;
    }

    /**
     * GET /?key=K[&epoch=E]: the committed value and its version. A person's read is refused
     * while this follower is joining or evicted; a leader's read (with its epoch) of a locked
     * key is 503 pending, and of a key this follower does not hold the latest value of 503.
     */
    private void read(HttpServerRequest req, Params p) {
        KeyRequest.Parsed parsed = KeyRequest.parse(Op.GET, p, settings.limits(), true);
        if (!parsed.ok()) {
            Replies.text(req, 500, parsed.error());
            return;
        }
        KeyRequest kr = parsed.request();
        if (kr.epoch() < 0) {
            if (!follower.participant().servesPersonReads()) Replies.text(req, 503, Errors.UNABLE);
            else answerRead(req, kr.key(), false);
            return;
        }
        follower.shell().leaderRead(kr.epoch()).onSuccess(step -> {
            if (step.status() != 200) stale(req);
            else answerRead(req, kr.key(), true);
        });
    }

    private void answerRead(HttpServerRequest req, String key, boolean fromLeader) {
        Participant.Read r = follower.participant().read(key, fromLeader);
        switch (r.result()) {
            case VALUE -> {
                Replies.version(req, r.version());
                Replies.bytes(req, 200, r.value());
            }
            case NO_KEY -> Replies.text(req, 500, Errors.NO_KEY);
            case PENDING -> Replies.text(req, 503, Errors.PENDING);
            case NOT_CURRENT -> Replies.text(req, 503, Errors.NOT_CURRENT);
        }
    }

    /** PUT or DELETE: phase 1. A yes vote (202 commit) only once the prepare is durable. */
    private void prepare(HttpServerRequest req, Op op, Params p) {
        KeyRequest.Parsed parsed = KeyRequest.parse(op, p, settings.limits(), true);
        if (!parsed.ok()) {
            Replies.text(req, 500, parsed.error());
            return;
        }
        follower.shell().prepare(parsed.request()).onSuccess(step -> {
            if (step.status() == 409) stale(req);
            else Replies.text(req, step.status(), step.body());
        });
    }

    /** 409 {@code error: stale leader}, saying which epoch we have accepted, so a new leader can go above it. */
    private void stale(HttpServerRequest req) {
        req.response().putHeader("X-KV-Epoch", String.valueOf(follower.participant().epoch()));
        Replies.text(req, 409, Errors.STALE_LEADER);
    }

    /** POST /commit or /abort, with tx and epoch (deciding a leader's transaction by hand) or without (the manual slot). */
    private void decide(HttpServerRequest req, HttpMethod method, Params p, boolean commit) {
        if (method != HttpMethod.POST || p.malformed() || p.count("tx") > 1 || p.count("epoch") > 1) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        String txText = p.get("tx");
        String epochText = p.get("epoch");
        TxId tx = null;
        long epoch = -1;
        if (txText != null) {
            tx = TxId.parse(txText);
            epoch = KeyRequest.parseEpoch(epochText);
            if (tx == null || epoch < 0) {
                Replies.text(req, 500, Errors.INVALID_REQUEST);
                return;
            }
        } else if (epochText != null) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        follower.shell().decide(tx, epoch, commit).onSuccess(step -> {
            if (step.status() == 409) stale(req);
            else Replies.text(req, step.status(), step.body());
        });
    }

    /**
     * GET /tpc/check?epoch=E[&claim=1][&to=IDENTITY]: the leader's health check; with
     * {@code claim=1}, a leader taking office claims epoch E.
     */
    private void check(HttpServerRequest req, HttpMethod method, Params p) {
        long epoch = p.malformed() || p.count("epoch") != 1 ? -1 : KeyRequest.parseEpoch(p.get("epoch"));
        int claims = p.count("claim");
        boolean claim = claims == 1 && "1".equals(p.get("claim"));
        if (method != HttpMethod.GET || epoch < 0 || claims > 0 && !claim || p.count("to") > 1) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        follower.shell().check(epoch, claim, p.get("to"), follower.copyProgress()).onSuccess(answer -> {
            if (answer instanceof JsonObject o) Replies.json(req, 200, o);
            else if (Integer.valueOf(421).equals(answer)) Replies.text(req, 421, Errors.NOT_THIS_FOLLOWER);
            else stale(req);
        });
    }

    /**
     * GET /tpc/copy?round=R&for=ID[&after=K][&limit=N][&bytes=B][&skip=ID,...][&view=V]: the next
     * keys a gainer copies from this follower in copy round R (PROTOCOL.md, "Views and moving
     * keys"). 409 when this follower does not know that round (its view is older or newer), or
     * its view is not the gainer's view V.
     */
    private void copy(HttpServerRequest req, HttpMethod method, Params p) {
        long round = p.malformed() || p.count("round") != 1 ? -1 : KeyRequest.parseEpoch(p.get("round"));
        long gainer;
        try {
            gainer = p.count("for") == 1 ? Long.parseUnsignedLong(p.get("for")) : 0;
        } catch (NumberFormatException e) {
            gainer = 0;
        }
        long limit = p.get("limit") == null ? 1000 : KeyRequest.parseEpoch(p.get("limit"));
        long bytes = p.get("bytes") == null ? 1 << 20 : KeyRequest.parseEpoch(p.get("bytes"));
        long view = p.get("view") == null ? 0 : KeyRequest.parseEpoch(p.get("view"));
        java.util.Set<Long> skip = new java.util.HashSet<>();
        String skipText = p.get("skip");
        try {
            if (skipText != null && !skipText.isEmpty()) for (String id : skipText.split(",")) skip.add(Long.parseUnsignedLong(id));
        } catch (NumberFormatException e) {
            round = -1;
        }
        if (method != HttpMethod.GET || round < 1 || gainer == 0 || limit < 1 || bytes < 1 || view < 0 || skip.size() > 1000) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        CopyAhead.Ask ask = new CopyAhead.Ask(round, gainer, p.get("after"), (int) Math.min(limit, 10_000), (int) Math.min(bytes, 4 << 20), skip, view);
        CopyAhead.Page page = copyAhead.page(ask);
        if (page == null) {
            Replies.text(req, 409, "error: copy round " + round + " unknown here");
            return;
        }
        req.response().putHeader(HttpHeaders.CONTENT_TYPE, CopyWire.CONTENT_TYPE)
                .putHeader(Copier.FOREGROUND_HEADER, Long.toString(follower.foreground().perSecond(System.nanoTime())))
                .end(page.body());
        follower.copyServed();
        // the next page is made while the gainer applies this one (after this answer is written)
        vertx.runOnContext(v -> copyAhead.makeNext(ask, page));
    }

    /** Largest batch body we read; the leader sends at most about 512 KB. */
    static final int MAX_BATCH_BODY = 4 << 20;

    /**
     * POST /tpc/batch?epoch=E: many leader messages in one request ({@link Batch}), each
     * answered exactly as its single-message form would be. The answer waits for the fsync that
     * covers every record the batch produced (one fsync for all of them).
     */
    private void batch(HttpServerRequest req, HttpMethod method, Params p) {
        long epoch = p.malformed() || p.count("epoch") != 1 ? -1 : KeyRequest.parseEpoch(p.get("epoch"));
        String length = req.getHeader("Content-Length");
        if (method != HttpMethod.POST || epoch < 0 || p.count("to") > 1) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        if (length != null && (length.length() > 9 || KeyRequest.parseEpoch(length) > MAX_BATCH_BODY)) {
            req.response().setStatusCode(413).putHeader("Connection", "close").end().onComplete(ar -> req.connection().close());
            return;
        }
        // Read the body ourselves, counting as it comes: past the limit, 413 and close.
        Buffer body = Buffer.buffer(length == null ? 1024 : (int) KeyRequest.parseEpoch(length));
        boolean[] refused = {false};
        req.exceptionHandler(e -> refused[0] = true);
        req.handler(chunk -> {
            if (refused[0]) return;
            if (body.length() + chunk.length() > MAX_BATCH_BODY) {
                refused[0] = true;
                req.response().setStatusCode(413).putHeader("Connection", "close").end().onComplete(ar -> req.connection().close());
                return;
            }
            body.appendBuffer(chunk);
        });
        req.endHandler(v -> {
            if (refused[0]) return;
            List<Batch.Item> items = Batch.decodeItems(body.toString(java.nio.charset.StandardCharsets.UTF_8));
            if (items == null) {
                Replies.text(req, 500, Errors.INVALID_REQUEST);
                return;
            }
            long started = System.nanoTime();
            follower.shell().batch(epoch, p.get("to"), items).onSuccess(a -> {
                if (a.status() == 409) stale(req);
                else {
                    Replies.viewHeader(req, follower.participant().view());
                    Replies.text(req, a.status(), a.body());
                    if (a.voted()) kvstore.fault.FaultPoints.hit("follower.after-vote-sent");
                }
                if (a.status() == 200) count(items, a.body(), started);
            });
        });
    }

    /** The one request that carries a body: the leader's batch, read by {@link #batch} itself. */
    static boolean readsItsBody(HttpServerRequest req) {
        return req.method() == HttpMethod.POST && "/tpc/batch".equals(req.path());
    }

    /** Each message of a batch counts in /metrics as its single-message form would. */
    private void count(List<Batch.Item> items, String answers, long startedNanos) {
        long nanos = System.nanoTime() - startedNanos;
        List<Batch.Answer> as = Batch.decodeAnswers(answers);
        if (as == null) return;
        int foreground = 0;
        for (int i = 0; i < items.size() && i < as.size(); i++) {
            Batch.Item item = items.get(i);
            kvstore.metrics.RequestType type = item instanceof Batch.Prepare ? kvstore.metrics.RequestType.PREPARE
                    : item instanceof Batch.Commit ? kvstore.metrics.RequestType.COMMIT
                    : item instanceof Batch.Abort ? kvstore.metrics.RequestType.ABORT
                    : item instanceof Batch.Read ? kvstore.metrics.RequestType.READ : null;
            if (type != null) follower.metrics().answered(type, as.get(i).status(), nanos);
            if (type != null) foreground++;
        }
        follower.foreground().add(foreground, System.nanoTime());
    }

    private void keys(HttpServerRequest req, HttpMethod method) {
        KeysQuery q = KeysQuery.parse(method, req.query());
        if (q == null) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        Keys.Page page = follower.participant().keys(q.prefix(), q.after(), q.limit());
        Replies.json(req, 200, new JsonObject()
                .put("keys", new JsonArray(new ArrayList<Object>(page.keys())))
                .put("next", page.next()));
    }
}
