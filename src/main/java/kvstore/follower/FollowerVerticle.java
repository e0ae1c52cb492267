package kvstore.follower;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.node.NodeSettings;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Participant;
import kvstore.http.Intake;
import kvstore.storage.LogStore;
import kvstore.storage.Recovery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * A follower: the I/O shell around the {@link Participant}. It owns, on one event loop, the HTTP
 * server ({@link FollowerHttp}), the log and the {@link Registrar}.
 *
 * <p>Start: bind first (a busy port fails before anything is touched), then replay the snapshot
 * and log on a worker thread; until that is done every request but the page, health and status
 * gets 503. Prepared transactions come back prepared (their keys locked) and are reported to the
 * leader by the next health check, which resolves them.
 *
 * <p>Rule for every answer: "persist before you speak". Records a step produced are appended,
 * and the answer waits for the fsync that covers them.
 */
public final class FollowerVerticle extends VerticleBase {
    private static final Logger LOG = LoggerFactory.getLogger(FollowerVerticle.class);

    private final NodeSettings settings;
    private HttpServer server;
    private LogStore log;
    private Participant participant;
    private Registrar registrar;
    private long registeredEpoch = -1;
    private int boundPort;
    private boolean stopping;
    private FollowerMetrics metrics;

    private final kvstore.cluster.Cluster cluster;

    public FollowerVerticle(NodeSettings settings) {
        this(settings, null);
    }

    public FollowerVerticle(NodeSettings settings, kvstore.cluster.Cluster cluster) {
        this.settings = settings;
        this.cluster = cluster;
    }

    @Override
    public Future<?> start() {
        metrics = new FollowerMetrics(this);
        FollowerHttp http = new FollowerHttp(this, settings);
        server = Intake.create(vertx, settings.limits(), http::handle, FollowerHttp::readsItsBody);
        return server.listen(settings.port(), settings.host())
                .compose(srv -> {
                    boundPort = srv.actualPort();
                    String shown = settings.host().equals("0.0.0.0") || settings.host().equals("::") ? settings.advertise() : settings.host();
                    System.out.println("kvstore follower listening on http://" + shown + ":" + boundPort);
                    return recover();
                });
    }

    private Future<Void> recover() {
        Participant state = new Participant();
        return vertx.executeBlocking(() -> Recovery.recover(settings.dataDir(), FileHeader.FOLLOWER, state))
                .compose(rec -> {
                    LOG.info("follower {}: log {}: {} records, {} bytes replayed in {} ms; keys: {}, prepared transactions: {}, epoch {}",
                            settings.address(), rec.fresh() ? "created" : "recovered", rec.records(), rec.bytesReplayed(), rec.millis(),
                            state.keyCount(), state.prepared().size(), state.epoch());
                    LogStore.Settings ls = new LogStore.Settings(settings.segmentBytes(), settings.groupCommit(), settings.compactMinBytes());
                    return LogStore.open(vertx, settings.dataDir(), FileHeader.FOLLOWER, ls, Participant::new, rec);
                })
                .map(store -> {
                    log = store;
                    participant = state;
                    registrar = new Registrar(vertx, settings, store.identity(), participant::epoch, cluster);
                    registeredEpoch = participant.epoch();
                    registrar.start();
                    vertx.setPeriodic(1_000, t -> expireManual());
                    return null;
                });
    }

    private void expireManual() {
        if (stopping) return;
        LogRecord r = participant.expireManual(System.currentTimeMillis());
        if (r != null) {
            LOG.info("follower {}: the manual transaction was aborted: not decided within {} s", settings.address(),
                    Participant.MANUAL_TIMEOUT_MILLIS / 1000);
            log.appendLazy(r);
        }
    }

    /* --- Used by FollowerHttp --- */

    boolean recovered() {
        return participant != null;
    }

    boolean ready() {
        return participant != null && registrar.registered() && !stopping;
    }

    Participant participant() {
        return participant;
    }

    /**
     * Appends a step's records; the future completes when it may be answered. With {@code
     * barrier} it also waits for every earlier record (a repeated phase-2 message must not be
     * acknowledged before the first one's record is durable).
     */
    Future<Void> persist(Participant.Step step, boolean barrier) {
        List<LogRecord> records = step.records();
        if (records.isEmpty() && !barrier) return Future.succeededFuture();
        for (LogRecord r : records) log.appendLazy(r);
        return log.barrier();
    }

    /** A leader's message with a valid epoch arrived; a newer epoch means a new leader. */
    void leaderContact(long epoch) {
        boolean newer = epoch > registeredEpoch;
        if (newer) registeredEpoch = epoch;
        if (registrar != null) registrar.leaderContact(newer);
    }

    /* Views for FollowerMetrics (null until recovery is done). */

    FollowerMetrics metrics() {
        return metrics;
    }

    LogStore log() {
        return log;
    }

    String identity() {
        return log == null ? null : log.identity();
    }

    JsonObject status() {
        JsonObject o = new JsonObject()
                .put("role", "follower")
                .put("host", settings.advertise())
                .put("port", boundPort)
                .put("ready", ready())
                .put("leader", registrar == null ? null : registrar.leaderAddress())
                .put("epoch", participant == null ? 0 : participant.epoch())
                .put("keys", participant == null ? 0 : participant.keyCount())
                .put("logBytes", log == null ? 0 : log.logBytes())
                .put("registered", registrar != null && registrar.registered())
                .put("identity", identity())
                .put("now", System.currentTimeMillis())
                .put("secretRequired", settings.secret() != null);
        JsonArray pending = new JsonArray();
        Object manual = null;
        JsonArray hand = new JsonArray();
        if (participant != null) {
            for (Participant.Prepared p : participant.prepared()) {
                JsonObject t = new JsonObject().put("tx", p.tx().isManual() ? "manual" : p.tx().toString())
                        .put("key", p.key()).put("op", p.op().name()).put("since", p.sinceMillis());
                if (p.value() != null) t.put("value", new String(p.value(), java.nio.charset.StandardCharsets.UTF_8));
                if (p.tx().isManual()) manual = t;
                else pending.add(t);
            }
            for (String k : participant.changedByHand()) hand.add(k);
        }
        return o.put("pending", pending).put("manual", manual).put("changedByHand", hand);
    }

    @Override
    public Future<?> stop() {
        stopping = true;
        if (registrar != null) registrar.stop();
        Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
        return closed.compose(v -> log == null ? Future.succeededFuture() : log.close())
                .onComplete(ar -> metrics.close());
    }
}
