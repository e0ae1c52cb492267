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
import kvstore.core.KeyRequest;
import kvstore.core.Member;
import kvstore.core.Params;
import kvstore.core.tpc.Batch;
import kvstore.core.tpc.Coordinator;
import kvstore.core.tpc.Effect;
import kvstore.core.tpc.RidMemory;
import kvstore.http.Guard;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The leader's side of the internal protocol (docs/protocol.md): the coordinator's messages,
 * batched per follower ({@link FollowerChannel}, {@code POST /tpc/batch}), and the health check
 * and epoch claim ({@code GET /tpc/check}), over HTTP/1.1 keep-alive connections (a Vert.x
 * WebClient with a pool per follower). Every request carries the leader's epoch, the identity
 * of the follower it is meant for and, when configured, the cluster secret. Answers are mapped
 * to what the coordinator understands; a failure, a deadline passed, or a follower marked down
 * is "no answer", never "no".
 */
final class FollowerClient {
    private final WebClient client;
    private final String secret;
    private final LongSupplier epoch;
    private final FollowerChannel.Views views;
    private final Map<Long, FollowerChannel> channels = new HashMap<>();

    FollowerClient(Vertx vertx, String secret, long connectTimeoutMillis, LongSupplier epoch, FollowerChannel.Views views) {
        WebClientOptions options = new WebClientOptions()
                .setKeepAlive(true)
                .setTcpNoDelay(true)
                .setConnectTimeout((int) Math.min(connectTimeoutMillis, 2_000))
                // Below the followers' 30 s idle close, so we never send on a connection being closed.
                .setIdleTimeout(15)
                .setKeepAliveTimeout(15)
                .setDecompressionSupported(false)
                .setUserAgentEnabled(false)
                .setFollowRedirects(false);
        this.client = WebClient.create(vertx, options, new PoolOptions().setHttp1MaxSize(48).setMaxWaitQueueSize(10_000));
        this.secret = secret;
        this.epoch = epoch;
        this.views = views;
    }

    private FollowerChannel channel(Member m) {
        return channels.computeIfAbsent(m.id(), id -> {
            FollowerChannel ch = new FollowerChannel(m, client, secret, epoch, views);
            ch.onSilent(() -> onSilent.accept(m));
            return ch;
        });
    }

    private java.util.function.Consumer<Member> onSilent = m -> {};

    /** The follower answered a check: its channel does not count it silent. */
    void heard(Member m) {
        FollowerChannel ch = channels.get(m.id());
        if (ch != null) ch.heard();
    }

    /** Who hears of a follower that answers nothing while messages to it are overdue (the monitor). */
    void onSilent(java.util.function.Consumer<Member> c) {
        this.onSilent = c;
    }

    /** The identity this follower's messages are addressed to. */
    void identity(Member m, String identity) {
        channel(m).identity(identity);
    }

    void prepare(Effect.SendPrepare p, java.util.function.Consumer<Coordinator.Vote> done) {
        channel(p.to()).send(new Batch.Prepare(p.tx(), p.rid(), p.writes()), p.deadlineMillis()).onComplete(ar -> {
            if (ar.failed()) {
                done.accept(new Coordinator.Vote(ar.cause() instanceof FollowerChannel.Stale ? Coordinator.VoteKind.STALE
                        : Coordinator.VoteKind.UNKNOWN, Errors.UNABLE, 0));
                return;
            }
            Batch.Answer a = ar.result();
            done.accept(switch (a.status()) {
                case 202 -> new Coordinator.Vote(Coordinator.VoteKind.YES, null, a.version());
                case 409 -> new Coordinator.Vote(Coordinator.VoteKind.STALE, Errors.UNABLE, 0);
                case 500 -> new Coordinator.Vote(Coordinator.VoteKind.NO, a.body(), a.version());
                default -> new Coordinator.Vote(Coordinator.VoteKind.UNKNOWN, Errors.UNABLE, 0);
            });
        });
    }

    void phase2(Effect.SendPhase2 p, java.util.function.Consumer<Coordinator.Phase2Result> done) {
        Batch.Item item = p.commit() ? new Batch.Commit(p.tx(), p.version(), p.rid()) : new Batch.Abort(p.tx(), p.rid());
        channel(p.to()).send(item, p.deadlineMillis()).onComplete(ar -> {
            if (ar.failed()) {
                done.accept(ar.cause() instanceof FollowerChannel.Stale ? Coordinator.Phase2Result.STALE : Coordinator.Phase2Result.RETRY);
                return;
            }
            done.accept(switch (ar.result().status()) {
                case 204 -> Coordinator.Phase2Result.ACK;
                case 409 -> Coordinator.Phase2Result.STALE;
                case 500 -> Coordinator.Phase2Result.REFUSED;
                case 410 -> Coordinator.Phase2Result.GONE;
                default -> Coordinator.Phase2Result.RETRY;
            });
        });
    }

    void read(Effect.SendRead r, java.util.function.Consumer<Coordinator.ReadReply> done) {
        channel(r.to()).send(new Batch.Read(r.key()), r.deadlineMillis()).onComplete(ar -> {
            if (ar.failed()) {
                done.accept(new Coordinator.ReadReply(ar.cause() instanceof FollowerChannel.Stale ? Coordinator.ReadResult.STALE
                        : Coordinator.ReadResult.ELSEWHERE, null, 0));
                return;
            }
            Batch.Answer a = ar.result();
            if (a.status() == 200) {
                done.accept(new Coordinator.ReadReply(Coordinator.ReadResult.VALUE, a.body().getBytes(StandardCharsets.UTF_8), a.version()));
            } else if (a.status() == 500 && Errors.NO_KEY.equals(a.body())) {
                done.accept(new Coordinator.ReadReply(Coordinator.ReadResult.NO_KEY, null, 0));
            } else {
                done.accept(new Coordinator.ReadReply(Coordinator.ReadResult.ELSEWHERE, null, 0));
            }
        });
    }

    void outcome(Effect.QueryOutcome q, java.util.function.Consumer<Coordinator.OutcomeReply> done) {
        channel(q.to()).send(new Batch.Outcome(q.tx()), q.deadlineMillis()).onComplete(ar -> {
            if (ar.failed() && ar.cause() instanceof FollowerChannel.WrongIdentity) {
                // Another data directory answers at that address: what the old one knew is gone.
                done.accept(new Coordinator.OutcomeReply(Coordinator.Outcome.UNKNOWN, 0));
                return;
            }
            if (ar.failed() || ar.result().status() != 200) {
                done.accept(new Coordinator.OutcomeReply(Coordinator.Outcome.UNREACHABLE, 0));
                return;
            }
            Coordinator.Outcome o = switch (ar.result().body()) {
                case "committed" -> Coordinator.Outcome.COMMITTED;
                case "aborted" -> Coordinator.Outcome.ABORTED;
                case "prepared" -> Coordinator.Outcome.PREPARED;
                case "unknown" -> Coordinator.Outcome.UNKNOWN;
                default -> Coordinator.Outcome.UNREACHABLE;
            };
            done.accept(new Coordinator.OutcomeReply(o, ar.result().version()));
        });
    }

    void rid(Effect.QueryRid q, java.util.function.Consumer<Coordinator.RidReply> done) {
        channel(q.to()).send(new Batch.RidQuery(q.rid()), q.deadlineMillis()).onComplete(ar -> {
            if (ar.failed() || ar.result().status() != 200) {
                done.accept(new Coordinator.RidReply(Coordinator.RidState.UNREACHABLE, null));
                return;
            }
            Batch.Answer a = ar.result();
            List<String> f = a.fields();
            if (f.size() == 5 && f.get(0).equals("known")) {
                try {
                    RidMemory.Outcome o = new RidMemory.Outcome(q.rid(), Long.parseLong(f.get(1)), Integer.parseInt(f.get(2)), a.version(),
                            f.get(3), Long.parseLong(f.get(4)));
                    done.accept(new Coordinator.RidReply(Coordinator.RidState.KNOWN, o));
                    return;
                } catch (NumberFormatException e) {
                    // fall through: an answer we do not understand
                }
            }
            done.accept(new Coordinator.RidReply(a.body().equals("pending") ? Coordinator.RidState.PENDING
                    : a.body().equals("unknown") ? Coordinator.RidState.UNKNOWN : Coordinator.RidState.UNREACHABLE, null));
        });
    }

    /** Sends the leader's latest view to a follower that has not logged it. */
    void pushView(Member m) {
        channel(m).pushView();
    }

    /** Fails every message past its deadline. */
    void expire(long nowMillis) {
        for (FollowerChannel c : channels.values()) c.expire(nowMillis);
    }

    /** The follower is down: what was queued or on the wire to it fails now. */
    void down(Member m) {
        FollowerChannel c = channels.get(m.id());
        if (c != null) c.down();
    }

    private HttpRequest<Buffer> request(HttpMethod method, Member m, String uri, long timeout) {
        HttpRequest<Buffer> r = client.request(method, m.port(), m.host(), uri).timeout(timeout);
        if (secret != null) r.putHeader(Guard.SECRET_HEADER, secret);
        return r;
    }

    /** What a health check or an epoch claim brought back. */
    record CheckAnswer(int status, JsonObject body, long theirEpoch) {
        boolean ok() { return status == 200; }
    }

    /**
     * The health check ({@code claim} false) or a new leader's claim of an epoch ({@code claim}
     * true: accepted only above every epoch the follower has accepted, and refused while it still
     * hears from a live leader): the follower's identity, epoch, view, versions and prepared
     * transactions; 409 with the epoch it has accepted; 421 when it has another identity.
     */
    Future<CheckAnswer> check(Member m, long epoch, boolean claim, String identity, long timeoutMillis) {
        StringBuilder uri = new StringBuilder("/tpc/check?epoch=").append(epoch);
        if (claim) uri.append("&claim=1");
        if (identity != null) {
            uri.append("&to=");
            Params.encodeTo(uri, identity);
        }
        return request(HttpMethod.GET, m, uri.toString(), timeoutMillis).send().map(r -> {
            if (r.statusCode() == 200) return new CheckAnswer(200, r.bodyAsJsonObject(), 0);
            long theirs = r.statusCode() == 409 ? Math.max(0, KeyRequest.parseEpoch(r.getHeader("X-KV-Epoch"))) : 0;
            return new CheckAnswer(r.statusCode(), null, theirs);
        });
    }

    /** One follower's page of keys, for the leader's cluster-wide key browser. */
    Future<JsonObject> keys(Member m, String prefix, String after, int limit, long timeoutMillis) {
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
    long batches() {
        return channels.values().stream().mapToLong(FollowerChannel::batches).sum();
    }

    long messages() {
        return channels.values().stream().mapToLong(FollowerChannel::messages).sum();
    }

    void close() {
        client.close();
    }
}
