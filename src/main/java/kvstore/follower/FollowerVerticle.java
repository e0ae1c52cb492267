package kvstore.follower;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.cluster.Cluster;
import kvstore.core.Member;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Participant;
import kvstore.http.Intake;
import kvstore.node.NodeBoot;
import kvstore.node.NodeSettings;
import kvstore.storage.LogStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * A follower's lifecycle: it owns, on one event loop, its HTTP server ({@link FollowerHttp}),
 * its log, the {@link Participant} and the shell that runs requests on it
 * ({@link ParticipantShell}), the {@link Registrar} and the {@link Copier}.
 *
 * <p>Start (shared with the leader, {@link NodeBoot}): bind first, then replay the snapshot and
 * log on a worker thread; until that is done every request but the page, health and status gets
 * 503. Prepared transactions come back prepared (their keys locked) and are reported to the
 * leader by its next health check, which resolves them.
 */
public final class FollowerVerticle extends VerticleBase {
    private static final Logger LOG = LoggerFactory.getLogger(FollowerVerticle.class);

    private final NodeSettings settings;
    private final Cluster cluster;
    private HttpServer server;
    private LogStore log;
    private Participant participant;
    private ParticipantShell shell;
    private Registrar registrar;
    private Copier copier;
    private int boundPort;
    private boolean stopping;
    private FollowerMetrics metrics;

    public FollowerVerticle(NodeSettings settings) {
        this(settings, null);
    }

    public FollowerVerticle(NodeSettings settings, Cluster cluster) {
        this.settings = settings;
        this.cluster = cluster;
    }

    @Override
    public Future<?> start() {
        metrics = new FollowerMetrics(this);
        FollowerHttp http = new FollowerHttp(vertx, this, settings);
        server = Intake.create(vertx, settings.limits(), http::handle, FollowerHttp::readsItsBody);
        return NodeBoot.bind(server, settings, "follower").compose(port -> {
            boundPort = port;
            long self = Member.of(settings.advertise(), port).id();
            return NodeBoot.recover(vertx, settings, FileHeader.FOLLOWER, new Participant(self), () -> new Participant(self));
        }).map(rec -> {
            log = rec.log();
            participant = rec.state();
            LOG.info("follower {}: log {}; keys: {}, prepared transactions: {}, epoch {}, view {}", settings.address(),
                    NodeBoot.describe(rec.replay()), participant.keyCount(), participant.prepared().size(), participant.epoch(),
                    participant.view() == null ? "none yet" : participant.view().number() + " (" + participant.state() + ")");
            registrar = new Registrar(vertx, settings, log.identity(), participant::epoch, participant::state, participant::view, cluster);
            shell = new ParticipantShell(participant, log, settings.limits(), newer -> {
                registrar.leaderContact(newer);
                sweepSoon(); // a view in this message may have completed a move
            }, task -> vertx.runOnContext(v -> task.run()));
            copier = new Copier(vertx, settings, Member.of(settings.advertise(), boundPort).id(), participant, shell, metrics);
            registrar.start();
            sweepSoon();
            vertx.setPeriodic(1_000, t -> tick());
            return null;
        });
    }

    private boolean sweepScheduled;
    private static final long SWEEP_EVERY_MILLIS = 5;

    /**
     * Goes on dropping the keys a completed move took away ({@link Participant#sweep}), a slice
     * every {@link #SWEEP_EVERY_MILLIS}: no write waits for the whole pass over a big store, and
     * on a busy machine the pass takes a small share of the CPU (about 1.2 s per million keys).
     */
    private void sweepSoon() {
        if (sweepScheduled || stopping || participant == null || !participant.sweeping()) return;
        sweepScheduled = true;
        vertx.setTimer(SWEEP_EVERY_MILLIS, t -> {
            sweepScheduled = false;
            if (!stopping && participant.sweep(Participant.SWEEP_SLICE)) sweepSoon();
        });
    }

    private void tick() {
        if (stopping) return;
        LogRecord r = participant.expireManual(System.currentTimeMillis());
        if (r != null) {
            LOG.info("follower {}: the manual transaction was aborted: not decided within {} s", settings.address(),
                    Participant.MANUAL_TIMEOUT_MILLIS / 1000);
            log.appendLazy(r);
        }
        copier.maybeStart();
        registrar.stateChanged();
    }

    /* --- Used by FollowerHttp --- */

    private CompactionHold sourceHold;

    /**
     * This follower served a page of a copy: its log is not compacted until
     * {@link Copier#COMPACT_AFTER_COPY_MILLIS} after the last one (a compaction replays the whole
     * log on the other core, the one the gainer's copy runs on).
     */
    void copyServed() {
        if (stopping || shell == null) return;
        if (sourceHold == null) sourceHold = new CompactionHold(vertx, hold -> shell.holdCompaction("source", hold), Copier.COMPACT_AFTER_COPY_MILLIS);
        sourceHold.hold();
        sourceHold.releaseLater();
    }

    boolean recovered() {
        return participant != null;
    }

    /** Registered and taking part: not while evicted (it holds nothing and serves no one until it is a member again). */
    boolean ready() {
        return participant != null && registrar.registered() && !stopping && !"evicted".equals(participant.state());
    }

    Participant participant() {
        return participant;
    }

    ParticipantShell shell() {
        return shell;
    }

    ParticipantShell.CopyProgress copyProgress() {
        return copier == null ? new ParticipantShell.CopyProgress(0, 0, 0, 0, 0) : copier.progress();
    }

    private final ForegroundRate foreground = new ForegroundRate(System.nanoTime());

    /** The leader's messages answered in about the last second (what a copy source reports). */
    ForegroundRate foreground() {
        return foreground;
    }

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
                .put("view", participant == null || participant.view() == null ? 0 : participant.view().number())
                .put("state", participant == null ? "new" : participant.state())
                .put("keys", participant == null ? 0 : participant.keyCount())
                .put("version", participant == null ? 0 : participant.highVersion())
                .put("logBytes", log == null ? 0 : log.logBytes())
                .put("registered", registrar != null && registrar.registered())
                .put("identity", identity())
                .put("now", System.currentTimeMillis())
                .put("secretRequired", settings.secret() != null);
        if (copier != null) o.put("copy", copier.statusJson());
        JsonArray pending = new JsonArray();
        Object manual = null;
        JsonArray hand = new JsonArray();
        if (participant != null) {
            for (Participant.Prepared p : participant.prepared()) {
                var w = p.writes().get(0);
                JsonObject t = new JsonObject().put("tx", p.tx().isManual() ? "manual" : p.tx().toString())
                        .put("key", w.key()).put("op", w.kind() == kvstore.core.Write.Kind.PUT ? "PUT" : w.kind().name())
                        .put("since", p.sinceMillis());
                if (p.writes().size() > 1) t.put("keys", p.writes().size());
                if (w.value() != null) t.put("value", w.value());
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
        if (copier != null) copier.stop();
        return NodeBoot.stop(server, log).onComplete(ar -> metrics.close());
    }
}
