package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import kvstore.cluster.Cluster;
import kvstore.core.Errors;
import kvstore.core.LeaderLog;
import kvstore.core.Member;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Answer;
import kvstore.core.tpc.ClientOp;
import kvstore.core.tpc.Coordinator;
import kvstore.core.tpc.EffectRunner;
import kvstore.core.tpc.RidMemory;
import kvstore.core.view.Membership;
import kvstore.core.view.View;
import kvstore.core.view.ViewKeeper;
import kvstore.http.Intake;
import kvstore.node.NodeBoot;
import kvstore.node.NodeSettings;
import kvstore.queue.WorkQueue;
import kvstore.storage.LogStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The leader's lifecycle and wiring: it owns, on one event loop, the HTTP server
 * ({@link LeaderHttp}), the work queue, the leader's log, the follower client and monitor, and,
 * while it is the active leader, the membership ({@link Members}) and the {@link Coordinator}
 * run through an {@link EffectRunner} and the {@link LeaderShell}. Taking office and stepping
 * down in cluster mode are the {@link Office}'s; the status pages are {@link LeaderStatus}'s.
 *
 * <h2>Start</h2>
 * Bind (a busy port fails before anything is touched), replay the log (epoch, view, decisions
 * to finish, rids) on a worker thread. Alone, take the next epoch, make it durable and act: the
 * followers of the log's view are checked, new ones register, and the coordinator starts once
 * the first {@code followers} have registered and every member has answered (or failed) one
 * check, so that their prepared transactions and highest versions are known. In cluster mode,
 * wait as a standby until the {@link Office} takes office.
 */
public final class LeaderVerticle extends VerticleBase {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderVerticle.class);
    private static final long TICK_MILLIS = 50;

    final NodeSettings settings;
    final Cluster cluster;
    private HttpServer server;
    LogStore log;
    LeaderLog recovered;
    FollowerClient client;
    FollowerMonitor monitor;
    WorkQueue queue;
    EffectRunner runner;
    Members members;
    Office office;
    LeaderMetrics metrics;
    LeaderStatus status;
    long epoch;
    boolean active;
    boolean stopping;
    int boundPort;
    long startedAtMillis;
    /** The highest version any follower has reported: a coordinator starts above it. */
    long reportedVersion;
    private boolean announcedReady;
    private final java.util.ArrayDeque<Runnable> beforeCoordinator = new java.util.ArrayDeque<>();
    /** Which refused registrations are logged: a follower waiting for capacity asks every 5 s. */
    private final RepeatedRefusals refusals = new RepeatedRefusals();

    public LeaderVerticle(NodeSettings settings) {
        this(settings, null);
    }

    public LeaderVerticle(NodeSettings settings, Cluster cluster) {
        this.settings = settings;
        this.cluster = cluster;
    }

    @Override
    public Future<?> start() {
        startedAtMillis = System.currentTimeMillis();
        metrics = new LeaderMetrics(this);
        status = new LeaderStatus(this);
        server = Intake.create(vertx, settings.limits(), new LeaderHttp(vertx, this, settings)::handle, LeaderHttp::readsItsBody);
        return NodeBoot.bind(server, settings, "leader")
                .compose(port -> {
                    boundPort = port;
                    return NodeBoot.recover(vertx, settings, FileHeader.LEADER, new LeaderLog(), LeaderLog::new);
                })
                .compose(rec -> {
                    log = rec.log();
                    recovered = rec.state();
                    LOG.info("leader log {}; epoch was {}, view {}, decisions to finish: {}", NodeBoot.describe(rec.replay()),
                            recovered.epoch(), recovered.view() == null ? "none" : recovered.view().number(), recovered.undecided().size());
                    client = new FollowerClient(vertx, settings.secret(), settings.requestTimeoutMillis(), () -> epoch, viewsForChannels());
                    monitor = new FollowerMonitor(client, () -> epoch, () -> active, Math.max(1_000, 2 * settings.checkIntervalMillis()), new Listener());
                    client.onSilent(monitor::silent);
                    queue = new WorkQueue(vertx, WorkQueue.address(settings.port()), settings.queueCapacity(), this::runJob);
                    runner = new EffectRunner(new LeaderShell(client, log, queue, metrics, () -> office.deposed("a follower has accepted a newer leader epoch")));
                    office = new Office(this);
                    vertx.setPeriodic(TICK_MILLIS, t -> tick());
                    vertx.setPeriodic(settings.checkIntervalMillis(), t -> { if (!stopping) monitor.checkAll(); });
                    vertx.setPeriodic(1_000, t -> slowTick());
                    if (cluster != null) {
                        epoch = recovered.epoch();
                        office.startStandby();
                        return Future.succeededFuture();
                    }
                    epoch = recovered.epoch() + 1;
                    return log.append(new LogRecord.Epoch(epoch)).map(v -> {
                        View start = recovered.view() != null ? recovered.view()
                                : View.empty(Math.max(1, settings.redundancy()), settings.vnodes(), settings.followers());
                        becomeActive(start, recovered.view() != null && recovered.view().moving(), false);
                        return null;
                    });
                })
                .map(v -> {
                    LOG.info("leader started{}: epoch {}, capacity {}, redundancy {}, vnodes {}", cluster == null ? "" : " in the cluster as a standby",
                            epoch, settings.followers(), Math.min(settings.redundancy(), settings.followers()), settings.vnodes());
                    return null;
                });
    }

    /** The membership from {@code start} on, this leader's: followers are checked and told; the coordinator follows. */
    void becomeActive(View start, boolean restate, boolean majorityAcks) {
        active = true;
        ViewKeeper keeper = new ViewKeeper(epoch, start, restate, settings.healAfterMillis(), majorityAcks);
        members = new Members(keeper, log, client, this::act,
                v -> { if (runner.coordinator() != null) runner.event(k -> k.viewProposed(v)); });
    }

    /** The coordinator's placement follows the keeper's acting view; the monitor watches its members. */
    private void act(View v) {
        monitor.track(v);
        Coordinator c = runner.coordinator();
        if (c != null) runner.event(k -> k.useView(v, LeaderClock.now()));
        else maybeStartCoordinator();
    }

    /** Starts the coordinator once the cluster has formed and every member has answered once. */
    private void maybeStartCoordinator() {
        if (!active || runner.coordinator() != null || members == null || stopping) return;
        View v = members.acting();
        if (v == null || !v.formed() || !monitor.allAnsweredOnce()) return;
        boolean clustered = cluster != null;
        Coordinator.Settings cs = new Coordinator.Settings(settings.opTimeoutMillis(), Math.min(1_500, settings.opTimeoutMillis()), 750,
                3_000, 100_000, 25, 1_000, clustered, clustered, LeaderClock.wallOffset());
        long high = Math.max(recovered.highVersion(), reportedVersion);
        long ridsElsewhere = clustered ? LeaderClock.now() + RidMemory.KEEP_MILLIS : 0;
        List<LogRecord.Decision> undecided = clustered ? List.of() : recovered.undecided();
        runner.attach(new Coordinator(cs, epoch, v, undecided, high, recovered.rids(), ridsElsewhere, LeaderClock.now()));
        View next = members.latest();
        if (next != v) runner.event(c -> c.viewProposed(next));
        for (Member m : monitor.upMembers()) runner.event(c -> c.followerHealth(m.id(), true, LeaderClock.now()));
        while (!beforeCoordinator.isEmpty()) beforeCoordinator.poll().run();
    }

    private void tick() {
        if (stopping) return;
        long now = LeaderClock.now();
        client.expire(now);
        runner.event(c -> c.tick(now));
        if (!announcedReady && ready()) { // the one "ready" line of the log
            announcedReady = true;
            LOG.info("leader ready: serving clients at epoch {}", epoch);
        }
    }

    private void slowTick() {
        if (stopping) return;
        maybeStartCoordinator();
        if (members != null) members.tick(new Facts());
        office.tick();
    }

    /** False while evicting the member could lose a transaction's outcome (see {@link Coordinator#mayEvict}). */
    boolean mayEvict(long memberId) {
        return new Facts().mayEvict(memberId);
    }

    /** What the keeper needs to know right now. */
    private final class Facts implements ViewKeeper.Facts {
        @Override public boolean isUp(long id) { return monitor.isUp(id); }

        @Override public long silentForMillis(long id, long now) { return monitor.silentForMillis(id, now); }

        @Override public boolean mayEvict(long memberId) {
            Coordinator c = runner.coordinator();
            return c != null && c.mayEvict(memberId);
        }

        @Override public boolean settledBefore(long viewNumber) {
            Coordinator c = runner.coordinator();
            return c != null && c.settledBefore(viewNumber);
        }
    }

    private FollowerChannel.Views viewsForChannels() {
        return new FollowerChannel.Views() {
            @Override public View durable() { return members == null ? null : members.durable(); }

            @Override public long logged(long id) { return members == null ? -1 : members.logged(id); }

            @Override public void logged(long id, long number) { if (members != null) members.logged(id, number); }
        };
    }

    /** What the follower monitor tells the leader. */
    private final class Listener implements FollowerMonitor.Listener {
        @Override public void health(Member m, boolean up) {
            runner.event(c -> c.followerHealth(m.id(), up, LeaderClock.now()));
            office.healthChanged();
        }

        @Override public void answered(Member m, List<Coordinator.Held> held, long version, long viewLogged, long copied) {
            reportedVersion = Math.max(reportedVersion, version);
            runner.event(c -> {
                c.observeVersion(version);
                if (!held.isEmpty()) c.heldReport(m.id(), held, LeaderClock.now());
            });
            if (members != null) members.answered(m, viewLogged, copied);
            maybeStartCoordinator();
        }

        @Override public void superseded(Member m, long theirEpoch) {
            office.superseded(m, theirEpoch);
        }
    }

    /* --- Client operations, from the work queue --- */

    private void runJob(long id, ClientOp op) {
        if (!ready()) {
            queue.complete(id, Answer.error(503, Errors.UNABLE));
            return;
        }
        runner.event(c -> c.submit(id, op, LeaderClock.now()));
    }

    /** Serving clients: active, the coordinator started, not stopping. */
    boolean ready() {
        return active && runner != null && runner.coordinator() != null && !stopping && !office.cutOff();
    }

    /** Clustered mode (Hazelcast): a standby may take over, with a majority of the members. */
    boolean clustered() {
        return cluster != null;
    }

    /** Clustered mode: a leader that is not (or no longer) the active one. */
    boolean standby() {
        return !active;
    }

    /** The cluster has never had its first {@code followers} members: SPEC's "capacity not yet full". */
    boolean forming() {
        if (!active) return false; // a standby answers 503 (SPEC.md section 7), whatever the cluster's state
        return members == null ? !office.everServed() : !members.latest().formed();
    }

    /* --- Registration and membership (SPEC.md sections 2 and 10) --- */

    /** Outcome of a registration, for the HTTP layer: null on success, else the error body. */
    Future<String> register(String host, int port, String identity, long followerEpoch, String nodeId) {
        Member m = Member.of(host, port);
        if (!active) return Future.succeededFuture(office.candidate(m, identity, nodeId));
        if (cluster == null && runner.coordinator() == null && followerEpoch > epoch) {
            // This follower has seen a newer epoch than ours (our log was lost): move past it.
            epoch = followerEpoch + 1;
            log.appendLazy(new LogRecord.Epoch(epoch));
        }
        Set<Long> down = new HashSet<>();
        for (var vm : members.latest().members()) if (!monitor.isUp(vm.member().id())) down.add(vm.member().id());
        down.remove(m.id());
        return members.change(v -> Membership.register(v, host, port, identity, epoch, System.currentTimeMillis(), down)).map(c -> {
            if (!c.ok()) {
                if (c.reason() != null) monitor.refused(m, c.reason());
                else if (refusals.shouldLog(m.address(), c.error(), System.currentTimeMillis())) {
                    LOG.warn("registration of {} refused: {} (said again at most once a minute while it asks)", m.address(), c.error());
                }
                return c.error();
            }
            refusals.accepted(m.address());
            if (c.view() != null) LOG.info("follower {} registered (id {}; view {}, {} of capacity {})", m.address(), m.idString(),
                    c.view().number(), c.view().memberCount(), c.view().capacity());
            monitor.registered(m, identity, nodeId);
            return null;
        });
    }

    /* --- Views --- */

    io.vertx.core.Vertx vertx() { return vertx; }

    Coordinator coordinator() { return runner == null ? null : runner.coordinator(); }

    int queueDepth() { return queue == null ? 0 : queue.depth(); }

    LeaderMetrics metrics() { return metrics; }

    WorkQueue queue() { return queue; }

    FollowerMonitor monitor() { return monitor; }

    FollowerClient followerClient() { return client; }

    LogStore log() { return log; }

    Members members() { return members; }

    LeaderStatus status() { return status; }

    /* --- Stop (SIGTERM): stop accepting, let the log drain, close --- */

    @Override
    public Future<?> stop() {
        stopping = true;
        Future<Void> left = office == null ? Future.succeededFuture() : office.stop();
        return left.compose(x -> NodeBoot.stop(server, log)).onComplete(ar -> {
            if (client != null) client.close();
            metrics.close();
        });
    }
}
