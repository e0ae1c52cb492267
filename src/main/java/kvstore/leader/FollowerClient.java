package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import kvstore.core.Errors;
import kvstore.core.Member;
import kvstore.core.Op;
import kvstore.core.Params;
import kvstore.core.TxId;
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
                .setIdleTimeout(60)
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

    /** Phase 1. */
    public Future<Vote> prepare(Member m, TxId tx, long epoch, String key, Op op, String value) {
        StringBuilder uri = new StringBuilder(32 + key.length() * 3 + (value == null ? 0 : value.length() * 3));
        uri.append("/?key=");
        Params.encodeTo(uri, key);
        if (op == Op.PUT) {
            uri.append("&val=");
            Params.encodeTo(uri, value);
        }
        uri.append("&tx=").append(tx).append("&epoch=").append(epoch);
        return request(op == Op.PUT ? HttpMethod.PUT : HttpMethod.DELETE, m, uri.toString(), timeoutMillis).send()
                .map(FollowerClient::vote)
                .otherwise(new Vote(VoteKind.UNKNOWN, Errors.UNABLE));
    }

    private static Vote vote(HttpResponse<Buffer> r) {
        return switch (r.statusCode()) {
            case 202 -> new Vote(VoteKind.YES, null);
            case 409 -> new Vote(VoteKind.STALE, Errors.UNABLE);
            case 500 -> new Vote(VoteKind.NO, r.bodyAsString());
            default -> new Vote(VoteKind.UNKNOWN, Errors.UNABLE);
        };
    }

    /** Phase 2. */
    public Future<Phase2Result> phase2(Member m, TxId tx, long epoch, boolean commit) {
        String uri = (commit ? "/commit?tx=" : "/abort?tx=") + tx + "&epoch=" + epoch;
        return request(HttpMethod.POST, m, uri, timeoutMillis).send()
                .map(r -> switch (r.statusCode()) {
                    case 204 -> Phase2Result.ACK;
                    case 409 -> Phase2Result.STALE;
                    case 500 -> Phase2Result.REFUSED;
                    default -> Phase2Result.RETRY;
                })
                .otherwise(Phase2Result.RETRY);
    }

    /** A read by the leader: it carries the epoch, so a key held by a prepared tx is 503 pending. */
    public Future<Read> read(Member m, String key, long epoch) {
        StringBuilder uri = new StringBuilder(24 + key.length() * 3).append("/?key=");
        Params.encodeTo(uri, key);
        uri.append("&epoch=").append(epoch);
        return request(HttpMethod.GET, m, uri.toString(), timeoutMillis).send()
                .map(r -> {
                    if (r.statusCode() == 200) {
                        Buffer b = r.body();
                        return new Read(ReadResult.VALUE, b == null ? new byte[0] : b.getBytes());
                    }
                    if (r.statusCode() == 500 && Errors.NO_KEY.equals(r.bodyAsString())) return new Read(ReadResult.NO_KEY, null);
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

    public void close() {
        client.close();
    }
}
