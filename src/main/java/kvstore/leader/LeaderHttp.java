package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.core.Hash;
import kvstore.core.KeyRequest;
import kvstore.core.Member;
import kvstore.core.Op;
import kvstore.core.Params;
import kvstore.core.tpc.Answer;
import kvstore.core.tpc.ClientOp;
import kvstore.core.tpc.RidMemory;
import kvstore.core.view.Membership;
import kvstore.core.view.Placement;
import kvstore.core.view.View;
import kvstore.http.Guard;
import kvstore.http.KeysQuery;
import kvstore.http.Replies;
import kvstore.http.NodeRouter;
import io.vertx.ext.web.Router;
import kvstore.metrics.RequestType;
import kvstore.node.NodeSettings;
import kvstore.queue.WorkQueue;

import java.util.HashSet;
import java.util.Set;

/**
 * The leader's HTTP API (SPEC.md sections 2, 10 and 11): turns each request into a typed call or
 * an error body, in SPEC.md's order of precedence (unauthorized, invalid request, key length,
 * value length, capacity), and writes the answer. It makes no protocol decision: client
 * operations go through the work queue to the coordinator, membership changes to
 * {@link Members}.
 */
final class LeaderHttp {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LeaderHttp.class);
    private final Vertx vertx;
    private final LeaderVerticle leader;
    private final NodeSettings settings;
    private final Guard guard;
    private final Router router;
    private final String queueAddress;
    private final long submitTimeoutMillis;

    LeaderHttp(Vertx vertx, LeaderVerticle leader, NodeSettings settings) {
        this.vertx = vertx;
        this.leader = leader;
        this.settings = settings;
        this.guard = new Guard(settings.secret(), settings.clientToken(), settings.host(), settings.advertise());
        this.queueAddress = WorkQueue.address(settings.port());
        // A backstop only: the coordinator answers every operation by its own deadline.
        this.submitTimeoutMillis = settings.opTimeoutMillis() + 10_000;
        this.router = routes();
    }

    /** The requests whose body is read by their route (within its own limit) rather than refused by the intake. */
    static boolean readsItsBody(HttpServerRequest req) {
        return req.method() == HttpMethod.POST && "/txn".equals(req.path());
    }

    /**
     * The seed's requests ({@code /} with a key, {@code /register}) and {@code /txn} are answered
     * here, word for word; everything else goes to the router ({@link NodeRouter}: health,
     * status, metrics, the web client's files, and the leader's {@code /api/...} routes).
     */
    void handle(HttpServerRequest req) {
        if (!guard.browserSafe(req)) {
            Replies.text(req, 403, Errors.UNAUTHORIZED);
            return;
        }
        String path = req.path();
        switch (path) {
            case "/" -> {
                Params p = Params.parse(req.query());
                if (req.method() == HttpMethod.GET && p.count("key") == 0 && !p.malformed()) router.handle(req); // the page
                else root(req, req.method(), p);
            }
            case "/register" -> register(req, req.method());
            case "/txn" -> TxnRoute.handle(req, this);
            default -> {
                if (NodeRouter.routable(path)) router.handle(req);
                else Replies.text(req, 500, Errors.INVALID_REQUEST);
            }
        }
    }

    /** The leader's own routes on the shared router. */
    private Router routes() {
        Router r = NodeRouter.create(vertx, guard, false, NodeRouter.views(() -> leader.status().status(), leader::ready,
                req -> leader.metrics().scrape(req)));
        r.get("/api/placement").handler(ctx -> placement(ctx.request()));
        r.get("/api/keys").handler(ctx -> keys(ctx.request()));
        r.get("/api/writes").handler(ctx -> writes(ctx.request()));
        r.get("/api/members").handler(ctx -> members(ctx.request(), "/api/members"));
        for (String action : new String[] {"evict", "drain", "capacity"}) {
            r.post("/api/members/" + action).handler(ctx -> members(ctx.request(), "/api/members/" + action));
        }
        return r;
    }

    /* --- The seed's client API, with versions, conditions and rids (SPEC.md sections 2 and 11) --- */

    private void root(HttpServerRequest req, HttpMethod method, Params p) {
        Op op = method == HttpMethod.GET ? Op.GET : method == HttpMethod.PUT ? Op.PUT : method == HttpMethod.DELETE ? Op.DELETE : null;
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
        KeyRequest kr = parsed.request();
        ClientOp cop;
        if (op == Op.GET) {
            cop = new ClientOp.Get(kr.key());
        } else {
            long ifVersion = -1;
            if (p.count("ifVersion") > 1 || p.count("rid") > 1) {
                Replies.text(req, 500, Errors.INVALID_REQUEST);
                return;
            }
            if (p.get("ifVersion") != null) {
                ifVersion = KeyRequest.parseEpoch(p.get("ifVersion"));
                if (ifVersion < 0 || ifVersion == 0 && op == Op.DELETE) {
                    Replies.text(req, 500, Errors.INVALID_REQUEST);
                    return;
                }
            }
            String rid = p.get("rid");
            if (rid != null && !RidMemory.valid(rid)) {
                Replies.text(req, 500, Errors.INVALID_REQUEST);
                return;
            }
            cop = new ClientOp.Put(kr.key(), op == Op.PUT ? kr.value() : null, ifVersion, rid);
        }
        if (leader.forming()) {
            Replies.text(req, 500, Errors.CAPACITY_NOT_FULL);
            return;
        }
        submit(cop).onSuccess(a -> answer(req, a, op == Op.PUT ? kr.value() : kr.key()));
    }

    Future<Answer> submit(ClientOp op) {
        return WorkQueue.submit(vertx, queueAddress, op, submitTimeoutMillis);
    }

    /** Writes an answer; a write's 201 carries the seed's body (the value of a PUT, the key of a DELETE). */
    static void answer(HttpServerRequest req, Answer a, String seedBody) {
        if (a.close()) {
            req.connection().close(); // the outcome is unknown: no answer rather than a wrong one
            return;
        }
        Replies.version(req, a.version());
        if (a.status() == 200 && a.value() != null) Replies.bytes(req, 200, a.value());
        else if (a.status() == 201) Replies.text(req, 201, seedBody);
        else if (a.body() != null && a.body().startsWith("{")) Replies.jsonText(req, a.status(), a.body());
        else Replies.text(req, a.status(), a.body());
    }

    Guard guard() { return guard; }

    LeaderVerticle leader() { return leader; }

    NodeSettings settings() { return settings; }

    /** {@code GET /api/writes?rid=ID}: what became of a write with this rid (committed, aborted or unknown). */
    private void writes(HttpServerRequest req) {
        if (!guard.tokenOk(req)) {
            Replies.text(req, 401, Errors.UNAUTHORIZED);
            return;
        }
        Params p = Params.parse(req.query());
        String rid = p.get("rid");
        if (p.malformed() || p.count("rid") != 1 || !RidMemory.valid(rid)) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        if (!leader.ready()) {
            Replies.text(req, 503, Errors.UNABLE);
            return;
        }
        submit(new ClientOp.RidQuery(rid)).onSuccess(a -> answer(req, a, null));
    }

    /* --- Registration (SPEC.md section 2) --- */

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
        if (port < 0 || !plausibleHost(host) || leader.log == null) {
            Replies.text(req, 500, leader.log == null ? Errors.UNABLE : Errors.INVALID_REQUEST);
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

    /* --- Membership (SPEC.md section 10) --- */

    private void members(HttpServerRequest req, String path) {
        if (!guard.secretOk(req)) {
            Replies.text(req, 401, Errors.UNAUTHORIZED);
            return;
        }
        boolean list = path.equals("/api/members");
        Members members = leader.members();
        if (leader.standby() || members == null) {
            Replies.text(req, 503, Errors.UNABLE);
            return;
        }
        if (list) {
            Replies.json(req, 200, members.json(leader.monitor()));
            return;
        }
        Params p = Params.parse(req.query());
        long epoch = leader.epoch;
        long wall = System.currentTimeMillis();
        if (path.endsWith("/capacity")) {
            long n = p.malformed() || p.count("n") != 1 ? -1 : KeyRequest.parseEpoch(p.get("n"));
            if (n < 1) {
                Replies.text(req, 500, Errors.INVALID_REQUEST);
                return;
            }
            members.change(v -> Membership.capacity(v, (int) n, epoch)).onSuccess(c -> {
                if (!c.ok()) Replies.text(req, 500, c.error());
                else Replies.json(req, 200, new JsonObject().put("capacity", n));
            });
            return;
        }
        String[] hp = p.malformed() || p.count("follower") != 1 ? null : hostPort(p.get("follower"));
        if (hp == null) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        String host = hp[0];
        int port = Integer.parseInt(hp[1]);
        Set<Long> down = new HashSet<>();
        for (var m : members.latest().members()) if (!leader.monitor().isUp(m.member().id())) down.add(m.member().id());
        if (path.endsWith("/evict") && !leader.mayEvict(Member.of(host, port).id())) {
            // An operator's decision stands (it may be the only way out of a stuck cluster), but say what it risks.
            LOG.warn("evicting {} by request although it may be the only replica that knows a transaction's outcome "
                    + "(it applied a commit another replica has not, or a new leader has not heard from it yet)", host + ":" + port);
        }
        Future<Membership.Change> change = path.endsWith("/evict")
                ? members.change(v -> Membership.evict(v, host, port, false, down, epoch, wall))
                : members.change(v -> Membership.drain(v, host, port, epoch, down, leader.clustered()));
        change.onSuccess(c -> {
            if (!c.ok()) Replies.text(req, 500, c.error());
            else Replies.jsonStatus(req, 202, new JsonObject().put("view", c.view() == null ? members.latest().number() : c.view().number()));
        });
    }

    /** HOST:PORT, or null. */
    private static String[] hostPort(String s) {
        if (s == null) return null;
        int colon = s.lastIndexOf(':');
        if (colon <= 0) return null;
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port = parsePort(s.substring(colon + 1));
        return port < 0 || !plausibleHost(host) ? null : new String[] {host, String.valueOf(port)};
    }

    /* --- Placement and keys --- */

    private void placement(HttpServerRequest req) {
        KeyRequest.Parsed parsed = KeyRequest.parse(Op.GET, Params.parse(req.query()), settings.limits(), false);
        if (!parsed.ok()) {
            Replies.text(req, 500, parsed.error());
            return;
        }
        Members members = leader.members();
        View v = members == null ? null : members.latest();
        if (v == null || v.members().isEmpty()) {
            Replies.text(req, 500, Errors.CAPACITY_NOT_FULL);
            return;
        }
        String key = parsed.request().key();
        Placement place = new Placement(v);
        JsonArray replicas = new JsonArray();
        for (Member m : place.targetRing().replicas(key)) {
            replicas.add(new JsonObject().put("id", m.idString()).put("host", m.host()).put("port", m.port()));
        }
        JsonArray current = new JsonArray();
        for (Member m : place.readSet(key)) current.add(new JsonObject().put("id", m.idString()).put("host", m.host()).put("port", m.port()));
        JsonArray points = new JsonArray();
        for (long[] pt : place.targetRing().pointsWithOwners()) {
            points.add(new JsonObject().put("point", Long.toUnsignedString(pt[0])).put("id", Long.toUnsignedString(pt[1])));
        }
        JsonObject o = new JsonObject()
                .put("key", key)
                .put("hash", Long.toUnsignedString(Hash.strhash64(key)))
                .put("replicas", replicas)
                .put("current", current)
                .put("view", v.number())
                .put("ring", points);
        if (v.moving()) {
            JsonArray from = new JsonArray();
            for (long[] pt : place.baseRing().pointsWithOwners()) {
                from.add(new JsonObject().put("point", Long.toUnsignedString(pt[0])).put("id", Long.toUnsignedString(pt[1])));
            }
            o.put("baseRing", from);
        }
        Replies.json(req, 200, o);
    }

    private void keys(HttpServerRequest req) {
        if (!guard.tokenOk(req)) {
            Replies.text(req, 401, Errors.UNAUTHORIZED);
            return;
        }
        if (leader.standby()) {
            Replies.text(req, 503, Errors.UNABLE);
            return;
        }
        KeysQuery q = KeysQuery.parse(req.method(), req.query());
        if (q == null) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        leader.status().keys(q.prefix(), q.after(), q.limit()).onComplete(ar -> {
            if (ar.succeeded()) Replies.json(req, 200, ar.result());
            else Replies.text(req, 500, Errors.UNABLE);
        });
    }
}
