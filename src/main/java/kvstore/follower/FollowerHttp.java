package kvstore.follower;

import io.vertx.core.buffer.Buffer;
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
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Batch;
import kvstore.core.tpc.Participant;
import kvstore.fault.FaultPoints;
import kvstore.http.Guard;
import kvstore.http.Replies;
import kvstore.http.StaticFiles;
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
    private final StaticFiles files = StaticFiles.load();

    FollowerHttp(FollowerVerticle follower, NodeSettings settings) {
        this.follower = follower;
        this.settings = settings;
        this.guard = new Guard(settings.secret(), null, settings.host(), settings.advertise());
    }

    void handle(HttpServerRequest req) {
        if (!guard.browserSafe(req)) {
            Replies.text(req, 403, Errors.UNAUTHORIZED);
            return;
        }
        String path = req.path();
        HttpMethod method = req.method();
        if (path.equals("/api/health")) {
            if (method != HttpMethod.GET) Replies.text(req, 500, Errors.INVALID_REQUEST);
            else if (follower.ready()) Replies.text(req, 200, "ok");
            else Replies.text(req, 503, "not ready");
            return;
        }
        Params p = Params.parse(req.query());
        if (path.equals("/") && method == HttpMethod.GET && p.count("key") == 0 && !p.malformed()) {
            if (!files.serve(req, "/")) Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        if (!path.equals("/") && files.serve(req, path)) return;
        follower.metrics().watch(req, path, method);
        if (!guard.secretOk(req)) {
            Replies.text(req, 401, Errors.UNAUTHORIZED);
            return;
        }
        if (path.equals("/api/status") && method == HttpMethod.GET) {
            Replies.json(req, 200, follower.status());
            return;
        }
        if (path.equals("/metrics") && method == HttpMethod.GET) {
            follower.metrics().scrape(req);
            return;
        }
        if (!follower.recovered()) {
            Replies.text(req, 503, Errors.UNABLE);
            return;
        }
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
            case "/api/keys" -> keys(req, method);
            default -> Replies.text(req, 500, Errors.INVALID_REQUEST);
        }
    }

    /** GET /?key=K[&epoch=E]: the committed value. A leader's read of a locked key is 503 pending. */
    private void read(HttpServerRequest req, Params p) {
        KeyRequest.Parsed parsed = KeyRequest.parse(Op.GET, p, settings.limits(), true);
        if (!parsed.ok()) {
            Replies.text(req, 500, parsed.error());
            return;
        }
        KeyRequest kr = parsed.request();
        Participant participant = follower.participant();
        if (kr.epoch() < 0) {
            answerRead(req, kr.key(), false);
            return;
        }
        Participant.Step step = participant.observeEpoch(kr.epoch());
        if (step.status() != 200) {
            stale(req);
            return;
        }
        follower.leaderContact(kr.epoch());
        if (step.records().isEmpty()) answerRead(req, kr.key(), true);
        else follower.persist(step, false).onSuccess(v -> answerRead(req, kr.key(), true));
    }

    private void answerRead(HttpServerRequest req, String key, boolean fromLeader) {
        Participant participant = follower.participant();
        switch (participant.read(key, fromLeader)) {
            case VALUE -> Replies.bytes(req, 200, participant.value(key));
            case NO_KEY -> Replies.text(req, 500, Errors.NO_KEY);
            case PENDING -> Replies.text(req, 503, Errors.PENDING);
        }
    }

    /** PUT or DELETE: phase 1. A yes vote (202 commit) only once the prepare is durable. */
    private void prepare(HttpServerRequest req, Op op, Params p) {
        KeyRequest.Parsed parsed = KeyRequest.parse(op, p, settings.limits(), true);
        if (!parsed.ok()) {
            Replies.text(req, 500, parsed.error());
            return;
        }
        KeyRequest kr = parsed.request();
        FaultPoints.hit("follower.before-prepare");
        Participant.Step step = follower.participant().prepare(kr, System.currentTimeMillis());
        if (step.status() == 409) {
            stale(req);
            return;
        }
        if (kr.tx() != null) follower.leaderContact(kr.epoch());
        follower.persist(step, true).onSuccess(v -> {
            if (step.status() == 202) FaultPoints.hit("follower.after-prepare-fsync");
            Replies.text(req, step.status(), step.body());
        });
    }

    /** 409 {@code error: stale leader}, saying which epoch we have accepted, so a new leader can go above it. */
    private void stale(HttpServerRequest req) {
        req.response().putHeader("X-KV-Epoch", String.valueOf(follower.participant().epoch()));
        Replies.text(req, 409, Errors.STALE_LEADER);
    }

    /** POST /commit or /abort, with tx and epoch (the leader) or without (the manual slot). */
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
        Participant participant = follower.participant();
        Participant.Step step = commit ? participant.commit(tx, epoch) : participant.abort(tx, epoch);
        if (step.status() == 409) {
            stale(req);
            return;
        }
        if (tx != null) follower.leaderContact(epoch);
        follower.persist(step, true).onSuccess(v -> {
            if (commit && step.status() == 204) FaultPoints.hit("follower.after-commit-fsync");
            Replies.text(req, step.status(), step.body());
        });
    }

    /**
     * GET /tpc/check?epoch=E[&claim=1]: the leader's health check; with {@code claim=1}, a leader
     * taking office claims epoch E, which must be above every epoch this follower has accepted.
     */
    private void check(HttpServerRequest req, HttpMethod method, Params p) {
        long epoch = p.malformed() || p.count("epoch") != 1 ? -1 : KeyRequest.parseEpoch(p.get("epoch"));
        int claims = p.count("claim");
        boolean claim = claims == 1 && "1".equals(p.get("claim"));
        if (method != HttpMethod.GET || epoch < 0 || claims > 0 && !claim) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        Participant participant = follower.participant();
        Participant.Step step = claim ? participant.claimEpoch(epoch) : participant.observeEpoch(epoch);
        if (step.status() != 200) {
            stale(req);
            return;
        }
        follower.leaderContact(epoch);
        follower.persist(step, false).onSuccess(v -> {
            JsonArray held = new JsonArray();
            for (Participant.Prepared pr : participant.preparedByLeaders()) {
                held.add(new JsonObject().put("tx", pr.tx().toString()).put("key", pr.key()));
            }
            Replies.json(req, 200, new JsonObject()
                    .put("identity", follower.identity())
                    .put("epoch", participant.epoch())
                    .put("keys", participant.keyCount())
                    .put("held", held));
        });
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
        if (method != HttpMethod.POST || epoch < 0) {
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
            runBatch(req, epoch, items);
        });
    }

    /** The one request that carries a body: the leader's batch, read by {@link #batch} itself. */
    static boolean readsItsBody(HttpServerRequest req) {
        return req.method() == HttpMethod.POST && "/tpc/batch".equals(req.path());
    }

    private void runBatch(HttpServerRequest req, long epoch, List<Batch.Item> items) {
        Participant participant = follower.participant();
        Participant.Step epochStep = participant.observeEpoch(epoch);
        if (epochStep.status() != 200) {
            stale(req);
            return;
        }
        follower.leaderContact(epoch);
        long started = System.nanoTime();
        List<LogRecord> records = new ArrayList<>(epochStep.records());
        StringBuilder out = new StringBuilder(items.size() * 8);
        int[] statuses = new int[items.size()];
        int n = 0;
        boolean writes = false, voted = false, committed = false;
        long now = System.currentTimeMillis();
        for (Batch.Item item : items) {
            Batch.Answer a;
            switch (item.kind()) {
                case PREPARE_PUT, PREPARE_DELETE -> {
                    writes = true;
                    Op op = item.kind() == Batch.Kind.PREPARE_PUT ? Op.PUT : Op.DELETE;
                    String invalid = KeyRequest.validate(op, item.key(), item.value(), settings.limits());
                    if (invalid != null) {
                        a = new Batch.Answer(500, invalid);
                    } else {
                        FaultPoints.hit("follower.before-prepare");
                        Participant.Step s = participant.prepare(new KeyRequest(op, item.key(), item.value(), item.tx(), epoch), now);
                        records.addAll(s.records());
                        voted |= s.status() == 202;
                        a = new Batch.Answer(s.status(), s.body());
                    }
                }
                case COMMIT, ABORT -> {
                    writes = true;
                    Participant.Step s = item.kind() == Batch.Kind.COMMIT ? participant.commit(item.tx(), epoch)
                            : participant.abort(item.tx(), epoch);
                    records.addAll(s.records());
                    committed |= item.kind() == Batch.Kind.COMMIT && s.status() == 204;
                    a = new Batch.Answer(s.status(), s.body());
                }
                case OUTCOME -> a = new Batch.Answer(200, participant.outcome(item.tx()).name().toLowerCase(java.util.Locale.ROOT));
                default -> {
                    String key = item.key();
                    a = switch (participant.read(key, true)) {
                        case VALUE -> new Batch.Answer(200, new String(participant.value(key), java.nio.charset.StandardCharsets.UTF_8));
                        case NO_KEY -> new Batch.Answer(500, Errors.NO_KEY);
                        case PENDING -> new Batch.Answer(503, Errors.PENDING);
                    };
                }
            }
            Batch.encode(a, out);
            statuses[n++] = a.status();
        }
        String body = out.toString();
        if (!writes && records.isEmpty()) {
            Replies.text(req, 200, body);
            count(items, statuses, started);
            return;
        }
        boolean anyYes = voted, anyCommit = committed;
        follower.persist(new Participant.Step(200, body, records), true).onSuccess(v -> {
            if (anyYes) FaultPoints.hit("follower.after-prepare-fsync");
            if (anyCommit) FaultPoints.hit("follower.after-commit-fsync");
            Replies.text(req, 200, body);
            count(items, statuses, started);
        });
    }

    /** Each message of a batch counts in /metrics as its single-message form would. */
    private void count(List<Batch.Item> items, int[] statuses, long startedNanos) {
        long nanos = System.nanoTime() - startedNanos;
        for (int i = 0; i < items.size(); i++) {
            kvstore.metrics.RequestType type = switch (items.get(i).kind()) {
                case PREPARE_PUT, PREPARE_DELETE -> kvstore.metrics.RequestType.PREPARE;
                case COMMIT -> kvstore.metrics.RequestType.COMMIT;
                case ABORT -> kvstore.metrics.RequestType.ABORT;
                case READ -> kvstore.metrics.RequestType.READ;
                case OUTCOME -> null;
            };
            if (type != null) follower.metrics().answered(type, statuses[i], nanos);
        }
    }

    private void keys(HttpServerRequest req, HttpMethod method) {
        KeysQuery q = KeysQuery.parse(method, req.query());
        if (q == null) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        Keys.Page page = Keys.page(follower.participant().data(), q.prefix(), q.after(), q.limit());
        Replies.json(req, 200, new JsonObject()
                .put("keys", new JsonArray(new ArrayList<Object>(page.keys())))
                .put("next", page.next()));
    }
}
