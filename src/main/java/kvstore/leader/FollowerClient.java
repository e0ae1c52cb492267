package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import kvstore.core.Errors;
import kvstore.core.Member;
import kvstore.core.Op;
import kvstore.core.Params;
import kvstore.core.TxId;
import kvstore.core.tpc.Batch;
import kvstore.core.tpc.Coordinator;
import java.util.List;
import kvstore.core.tpc.Coordinator.Phase2Result;
import kvstore.core.tpc.Coordinator.ReadResult;
import kvstore.core.tpc.Coordinator.VoteKind;
import kvstore.http.Guard;

/**
 * The leader's side of the participant API (SPEC.md section 3) over HTTP/1.1 keep-alive
 * connections (a Vert.x WebClient with a pool per follower). Every request carries the leader's
 * epoch and, when configured, the cluster secret. Answers are mapped to what the coordinator
 * understands; any transport failure or timeout is "no answer", never "no".
 */
public final class FollowerClient {

    public record Vote(VoteKind kind, String reason) {}

    public record Read(ReadResult result, byte[] value) {}

    private final WebClient client;
    private final String secret;
    private final long timeoutMillis;

    public FollowerClient(Vertx vertx, String secret, long timeoutMillis) {
        WebClientOptions options = new WebClientOptions()
                .setKeepAlive(true)
                .setTcpNoDelay(true)
                .setConnectTimeout((int) Math.min(timeoutMillis, 2_000))
                // Below the followers' 30 s idle close, so we never send on a connection being closed.
                .setIdleTimeout(15)
                .setKeepAliveTimeout(15)
                .setDecompressionSupported(false)
                .setUserAgentEnabled(false)
                .setFollowRedirects(false);
        this.client = WebClient.create(vertx, options, new PoolOptions().setHttp1MaxSize(48).setMaxWaitQueueSize(100_000));
        this.secret = secret;
        this.timeoutMillis = timeoutMillis;
    }

    private HttpRequest<Buffer> request(HttpMethod method, Member m, String uri, long timeout) {
        HttpRequest<Buffer> r = client.request(method, m.port(), m.host(), uri).timeout(timeout);
        if (secret != null) r.putHeader(Guard.SECRET_HEADER, secret);
        return r;
    }

    private final java.util.Map<Long, FollowerChannel> channels = new java.util.HashMap<>();
    private java.util.function.LongSupplier epoch = () -> 0;

    /** The leader's epoch, sent with every batch. */
    public void epochSource(java.util.function.LongSupplier epoch) {
        this.epoch = epoch;
    }

    private FollowerChannel channel(Member m) {
        return channels.computeIfAbsent(m.id(), id -> new FollowerChannel(m, client, secret, timeoutMillis, () -> epoch.getAsLong()));
    }

    /** Phase 1 (batched with other messages to the same follower). */
    public Future<Vote> prepare(Member m, TxId tx, long epoch, String key, Op op, String value) {
        Batch.Item item = new Batch.Item(op == Op.PUT ? Batch.Kind.PREPARE_PUT : Batch.Kind.PREPARE_DELETE, tx, key, value);
        return channel(m).send(item)
                .map(a -> switch (a.status()) {
                    case 202 -> new Vote(VoteKind.YES, null);
                    case 409 -> new Vote(VoteKind.STALE, Errors.STALE_LEADER);
                    case 500 -> new Vote(VoteKind.NO, a.body());
                    default -> new Vote(VoteKind.UNKNOWN, Errors.UNABLE);
                })
                .otherwise(new Vote(VoteKind.UNKNOWN, Errors.UNABLE));
    }

    /** Phase 2 (batched). */
    public Future<Phase2Result> phase2(Member m, TxId tx, long epoch, boolean commit) {
        return channel(m).send(new Batch.Item(commit ? Batch.Kind.COMMIT : Batch.Kind.ABORT, tx, null, null))
                .map(a -> switch (a.status()) {
                    case 204 -> Phase2Result.ACK;
                    case 409 -> Phase2Result.STALE;
                    case 500 -> Phase2Result.REFUSED;
                    default -> Phase2Result.RETRY;
                })
                .otherwise(Phase2Result.RETRY);
    }

    /** What became of a transaction, by one replica's account (batched with reads). */
    public Future<kvstore.core.tpc.Coordinator.Outcome> outcome(Member m, TxId tx) {
        return channel(m).send(new Batch.Item(Batch.Kind.OUTCOME, tx, null, null))
                .map(a -> a.status() != 200 ? kvstore.core.tpc.Coordinator.Outcome.UNREACHABLE : switch (a.body()) {
                    case "committed" -> kvstore.core.tpc.Coordinator.Outcome.COMMITTED;
                    case "aborted" -> kvstore.core.tpc.Coordinator.Outcome.ABORTED;
                    case "prepared" -> kvstore.core.tpc.Coordinator.Outcome.PREPARED;
                    case "unknown" -> kvstore.core.tpc.Coordinator.Outcome.UNKNOWN;
                    default -> kvstore.core.tpc.Coordinator.Outcome.UNREACHABLE;
                })
                .otherwise(kvstore.core.tpc.Coordinator.Outcome.UNREACHABLE);
    }

    /** A read by the leader (batched with other reads): a key held by a prepared tx is 503 pending. */
    public Future<Read> read(Member m, String key, long epoch) {
        return channel(m).send(new Batch.Item(Batch.Kind.READ, null, key, null))
                .map(a -> {
                    if (a.status() == 200) return new Read(ReadResult.VALUE, a.body().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    if (a.status() == 500 && Errors.NO_KEY.equals(a.body())) return new Read(ReadResult.NO_KEY, null);
                    return new Read(ReadResult.ELSEWHERE, null);
                })
                .otherwise(new Read(ReadResult.ELSEWHERE, null));
    }

    /** The health check: the follower's identity, epoch and prepared transactions. */
    public Future<JsonObject> check(Member m, long epoch, long timeout) {
        return request(HttpMethod.GET, m, "/tpc/check?epoch=" + epoch, timeout).send()
                .compose(r -> r.statusCode() == 200
                        ? Future.succeededFuture(r.bodyAsJsonObject())
                        : Future.failedFuture("check answered " + r.statusCode() + " " + r.bodyAsString()));
    }

    /**
     * A follower's answer to a new leader's claim of an epoch (the check with that epoch and
     * {@code claim=1}, which it records durably before answering; an epoch it has accepted
     * already, from any leader, is refused): accepted with its identity and held transactions, or refused
     * because it has accepted {@code refusedFor} already, or no answer (null fields).
     */
    public record Acceptance(boolean accepted, long refusedFor, String identity, List<Coordinator.Held> held) {}

    public Future<Acceptance> accept(Member m, long epoch, long timeout) {
        return request(HttpMethod.GET, m, "/tpc/check?epoch=" + epoch + "&claim=1", timeout).send()
                .map(r -> {
                    if (r.statusCode() == 200) {
                        JsonObject o = r.bodyAsJsonObject();
                        return new Acceptance(true, 0, o.getString("identity"), FollowerMonitor.held(o.getJsonArray("held")));
                    }
                    long theirs = r.statusCode() == 409 ? Math.max(0, kvstore.core.KeyRequest.parseEpoch(r.getHeader("X-KV-Epoch"))) : 0;
                    return new Acceptance(false, theirs, null, List.of());
                })
                .otherwise(new Acceptance(false, 0, null, List.of()));
    }

    /** One follower's page of keys, for the leader's cluster-wide key browser. */
    public Future<JsonObject> keys(Member m, String prefix, String after, int limit) {
        StringBuilder uri = new StringBuilder("/api/keys?limit=").append(limit);
        if (prefix != null) {
            uri.append("&prefix=");
            Params.encodeTo(uri, prefix);
        }
        if (after != null) {
            uri.append("&after=");
            Params.encodeTo(uri, after);
        }
        return request(HttpMethod.GET, m, uri.toString(), timeoutMillis).send()
                .compose(r -> r.statusCode() == 200
                        ? Future.succeededFuture(r.bodyAsJsonObject())
                        : Future.failedFuture("keys answered " + r.statusCode()));
    }

    /** Batched requests sent so far to all followers, and the messages they carried. */
    public long batches() {
        return channels.values().stream().mapToLong(FollowerChannel::batches).sum();
    }

    public long messages() {
        return channels.values().stream().mapToLong(FollowerChannel::messages).sum();
    }

    public void close() {
        client.close();
    }
}
