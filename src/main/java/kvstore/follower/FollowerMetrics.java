package kvstore.follower;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import kvstore.core.tpc.Participant;
import kvstore.metrics.NodeMetrics;
import kvstore.metrics.RequestType;

/**
 * A follower's metrics: participant requests (prepare, commit, abort, read) by status, its keys
 * and prepared transactions, and its log. {@code kvstore_requests_total{type="commit",
 * status="204"}} is the number of phase-2 commits this replica acknowledged. Every method runs
 * on the follower's event loop.
 */
final class FollowerMetrics extends NodeMetrics {
    static final String KEYS = "kvstore.keys";
    static final String PREPARED = "kvstore.tpc.prepared";
    static final String COPIED_KEYS = "kvstore.copy.keys";
    static final String COPIED_BYTES = "kvstore.copy.bytes";

    private final io.micrometer.core.instrument.Counter copiedKeys;
    private final io.micrometer.core.instrument.Counter copiedBytes;

    FollowerMetrics(FollowerVerticle follower) {
        super(RequestType.PREPARE, RequestType.COMMIT, RequestType.ABORT, RequestType.READ);
        gauge(KEYS, "Keys in this follower's committed state", follower::participant, Participant::keyCount, null);
        gauge(PREPARED, "Transactions prepared here and not yet decided (the manual slot included)", follower::participant,
                p -> p.prepared().size(), null);
        gauge(READY, "1 when the follower is registered and serving", () -> follower, f -> f.ready() ? 1 : 0, null);
        gauge(EPOCH, "The highest leader epoch this follower has accepted", follower::participant, Participant::epoch, null);
        logMeters(follower::log);
        copiedKeys = io.micrometer.core.instrument.Counter.builder(COPIED_KEYS).description("Keys this follower copied from current replicas (moving keys)")
                .register(registry);
        copiedBytes = io.micrometer.core.instrument.Counter.builder(COPIED_BYTES).description("Bytes of keys and values this follower copied")
                .register(registry);
    }

    /** A page of a copy was applied and is durable. */
    void copied(long keys, long bytes) {
        copiedKeys.increment(keys);
        copiedBytes.increment(bytes);
    }

    /** Counts a participant request (SPEC.md section 3) when it is answered; other paths are not counted. */
    void watch(HttpServerRequest req, String path, HttpMethod method) {
        RequestType type = switch (path) {
            case "/" -> method == HttpMethod.GET ? RequestType.READ
                    : method == HttpMethod.PUT || method == HttpMethod.DELETE ? RequestType.PREPARE : null;
            case "/commit" -> RequestType.COMMIT;
            case "/abort" -> RequestType.ABORT;
            default -> null;
        };
        if (type != null) watch(req, type);
    }
}
