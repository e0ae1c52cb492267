package kvstore.leader;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.core.Hash;
import kvstore.core.KeyRequest;
import kvstore.core.Keys;
import kvstore.core.Member;
import kvstore.node.NodeSettings;
import kvstore.core.Op;
import kvstore.core.Params;
import kvstore.core.Ring;
import kvstore.http.Guard;
import kvstore.http.Replies;
import kvstore.http.StaticFiles;
import kvstore.metrics.RequestType;
import kvstore.queue.WorkQueue;

/**
 * The leader's HTTP API (SPEC.md section 2): turns each request into a typed call or an error
 * body, in SPEC.md's order of precedence (unauthorized, invalid request, key length, value
 * length, capacity), and writes the answer. It makes no protocol decision: client operations go
 * through the work queue to the coordinator.
 */
final class LeaderHttp {
    private final io.vertx.core.Vertx vertx;
    private final LeaderVerticle leader;
    private final NodeSettings settings;
    private final Guard guard;
    private final StaticFiles files = StaticFiles.load();
    private final String queueAddress;
    private final long submitTimeoutMillis;

    LeaderHttp(io.vertx.core.Vertx vertx, LeaderVerticle leader, NodeSettings settings) {
        this.vertx = vertx;
        this.leader = leader;
        this.settings = settings;
        this.guard = new Guard(settings.secret(), settings.clientToken(), settings.host(), settings.advertise());
        this.queueAddress = WorkQueue.address(settings.port());
        this.submitTimeoutMillis = settings.opTimeoutMillis() + 4 * settings.requestTimeoutMillis() + 5_000;
    }

    void handle(HttpServerRequest req) {
        if (!guard.browserSafe(req)) {
            Replies.text(req, 403, Errors.UNAUTHORIZED);
            return;
        }
        String path = req.path();
        HttpMethod method = req.method();
        switch (path) {
            case "/" -> root(req, method);
            case "/register" -> register(req, method);
            case "/api/status" -> {
                if (method == HttpMethod.GET) Replies.json(req, 200, leader.status());
                else Replies.text(req, 500, Errors.INVALID_REQUEST);
            }
            case "/api/health" -> {
                if (method != HttpMethod.GET) Replies.text(req, 500, Errors.INVALID_REQUEST);
                else if (leader.ready()) Replies.text(req, 200, "ok");
                else Replies.text(req, 503, "not ready");
            }
            case "/api/placement" -> placement(req, method);
            case "/metrics" -> {
                if (method == HttpMethod.GET) leader.metrics().scrape(req);
                else Replies.text(req, 500, Errors.INVALID_REQUEST);
            }
            case "/api/keys" -> keys(req, method);
            default -> {
                if (!files.serve(req, path)) Replies.text(req, 500, Errors.INVALID_REQUEST);
            }
        }
    }

    private void root(HttpServerRequest req, HttpMethod method) {
        Op op = method == HttpMethod.GET ? Op.GET : method == HttpMethod.PUT ? Op.PUT : method == HttpMethod.DELETE ? Op.DELETE : null;
        Params p = Params.parse(req.query());
        if (op == Op.GET && p.count("key") == 0 && !p.malformed()) {
            if (!files.serve(req, "/")) Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        if (op != null) leader.metrics().watch(req, op == Op.GET ? RequestType.GET : op == Op.PUT ? RequestType.PUT : RequestType.DELETE);
        if (!guard.tokenOk(req)) {
            Replies.text(req, 401, Errors.UNAUTHORIZED);
            return;
        }
        if (leader.standby()) { // clustered mode: a standby does not serve until it takes over
            Replies.text(req, 503, Errors.UNABLE);
            return;
        }
        if (op == null) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        KeyRequest.Parsed parsed = KeyRequest.parse(op, p, settings.limits(), false);
        if (!parsed.ok()) {
            Replies.text(req, 500, parsed.error());
            return;
        }
        if (leader.registry() == null || !leader.registry().full()) {
            Replies.text(req, 500, Errors.CAPACITY_NOT_FULL);
            return;
        }
        KeyRequest kr = parsed.request();
        WorkQueue.submit(vertx, queueAddress,
                        new WorkQueue.Job(op, kr.key(), kr.value()), submitTimeoutMillis)
                .onSuccess(done -> {
                    if (done.status() == 200 && done.value() != null) Replies.bytes(req, 200, done.value());
                    else if (done.status() == 201) Replies.text(req, 201, op == Op.PUT ? kr.value() : kr.key()); // the seed's bodies
                    else Replies.text(req, done.status(), done.body());
                });
    }

    private void register(HttpServerRequest req, HttpMethod method) {
        if (!guard.secretOk(req)) {
            Replies.text(req, 401, Errors.UNAUTHORIZED);
            return;
        }
        if (method != HttpMethod.POST) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        KeyRequest.Parsed parsed = KeyRequest.parse(Op.PUT, Params.parse(req.query()), settings.limits(), false);
        if (!parsed.ok()) {
            Replies.text(req, 500, parsed.error());
            return;
        }
        String host = parsed.request().key();
        int port = parsePort(parsed.request().value());
        if (port < 0 || !plausibleHost(host) || leader.registry() == null) {
            Replies.text(req, 500, leader.registry() == null ? Errors.UNABLE : Errors.INVALID_REQUEST);
            return;
        }
        String identity = req.getHeader("X-KV-Identity");
        long followerEpoch = KeyRequest.parseEpoch(req.getHeader("X-KV-Epoch"));
        String nodeId = req.getHeader("X-KV-Node");
        leader.register(host, port, identity == null || identity.isBlank() ? null : identity, followerEpoch, nodeId)
                .onComplete(ar -> {
                    if (ar.failed()) Replies.text(req, 500, Errors.UNABLE);
                    else if (ar.result() != null) Replies.text(req, 500, ar.result());
                    else Replies.text(req, 201, "");
                });
    }

    /**
     * A follower's address as the leader will dial it and show it: a DNS name or an IP literal
     * (letters, digits, dots, hyphens; colons and brackets for IPv6), at most 253 characters. Anything else
     * (slashes, spaces, control characters, markup) is an invalid request.
     */
    static boolean plausibleHost(String s) {
        if (s.isEmpty() || s.length() > 253) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':'
                    || c == '[' || c == ']')) {
                return false;
            }
        }
        return true;
    }

    static int parsePort(String s) {
        if (s == null || s.isEmpty() || s.length() > 5) return -1;
        int v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return -1;
            v = v * 10 + (c - '0');
        }
        return v >= 1 && v <= 65535 ? v : -1;
    }

    private void placement(HttpServerRequest req, HttpMethod method) {
        if (method != HttpMethod.GET) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        KeyRequest.Parsed parsed = KeyRequest.parse(Op.GET, Params.parse(req.query()), settings.limits(), false);
        if (!parsed.ok()) {
            Replies.text(req, 500, parsed.error());
            return;
        }
        if (leader.registry() == null || leader.registry().size() == 0) {
            Replies.text(req, 500, Errors.CAPACITY_NOT_FULL);
            return;
        }
        String key = parsed.request().key();
        Ring ring = leader.coordinator() != null ? leader.coordinator().ring()
                : new Ring(leader.registry().members(), settings.redundancy(), settings.vnodes());
        JsonArray replicas = new JsonArray();
        for (Member m : ring.replicas(key)) {
            replicas.add(new JsonObject().put("id", m.idString()).put("host", m.host()).put("port", m.port()));
        }
        JsonArray points = new JsonArray();
        for (long[] pt : ring.pointsWithOwners()) {
            points.add(new JsonObject().put("point", Long.toUnsignedString(pt[0])).put("id", Long.toUnsignedString(pt[1])));
        }
        Replies.json(req, 200, new JsonObject()
                .put("key", key)
                .put("hash", Long.toUnsignedString(Hash.strhash64(key)))
                .put("replicas", replicas)
                .put("ring", points));
    }

    private void keys(HttpServerRequest req, HttpMethod method) {
        if (!guard.tokenOk(req)) {
            Replies.text(req, 401, Errors.UNAUTHORIZED);
            return;
        }
        if (leader.standby()) {
            Replies.text(req, 503, Errors.UNABLE);
            return;
        }
        kvstore.http.KeysQuery q = kvstore.http.KeysQuery.parse(method, req.query());
        if (q == null) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        leader.keys(q.prefix(), q.after(), q.limit()).onComplete(ar -> {
            if (ar.succeeded()) Replies.json(req, 200, ar.result());
            else Replies.text(req, 500, Errors.UNABLE);
        });
    }
}
