package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.cluster.Cluster;
import kvstore.core.Keys;
import kvstore.core.LeaderLog;
import kvstore.core.Member;
import kvstore.node.NodeSettings;
import kvstore.core.Op;
import kvstore.core.Registry;
import kvstore.core.Ring;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Coordinator;
import kvstore.core.tpc.Effect;
import kvstore.fault.FaultPoints;
import kvstore.http.Intake;
import kvstore.queue.WorkQueue;
import kvstore.storage.LogStore;
import kvstore.storage.Recovery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The leader: the I/O shell around the {@link Coordinator}. It owns, on one event loop, the HTTP
 * server ({@link LeaderHttp}), the work queue's consumer, the leader's log, the registry, the
 * follower monitor and the WebClient to the followers, and it runs the coordinator's effects in
 * order: append and fsync first, then send, then reply ("persist before you speak").
 *
 * <h2>Start</h2>
 * Bind (so a busy port fails before anything is touched), replay the log (registry, epoch,
 * undecided decisions) on a worker thread, take a new epoch and make it durable, then start the
 * coordinator once the registry is full. It is ready when every follower has answered (or failed)
 * one check, so that their prepared transactions are known.
 */
public final class LeaderVerticle extends VerticleBase {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderVerticle.class);
    private static final long TICK_MILLIS = 100;

    private final NodeSettings settings;
    private HttpServer server;
    private LogStore log;
    private Registry registry;
    private Coordinator coordinator;
    private FollowerClient client;
    private FollowerMonitor monitor;
    private WorkQueue queue;
    private long epoch;
    private List<LogRecord.Decision> inherited = List.of();
    private long startedAtMillis;
    private boolean stopping;
    private int boundPort;
    /** Clustered mode: the cluster, and whether we are the active leader (false: a standby). */
    private final Cluster cluster;
    private Election election;
    private boolean active;
    private boolean takingOffice;
    private LeaderMetrics metrics;
    private boolean announcedReady;

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
        client = new FollowerClient(vertx, settings.secret(), settings.requestTimeoutMillis());
        client.epochSource(() -> epoch);
        metrics = new LeaderMetrics(this);
        LeaderHttp http = new LeaderHttp(vertx, this, settings);
        server = Intake.create(vertx, settings.limits(), http::handle);
        return server.listen(settings.port(), settings.host())
                .compose(srv -> {
                    boundPort = srv.actualPort();
                    System.out.println("kvstore leader listening on http://" + displayHost() + ":" + boundPort);
                    return recover();
                });
    }

    private String displayHost() {
        return settings.host().equals("0.0.0.0") || settings.host().equals("::") ? settings.advertise() : settings.host();
    }

    private Future<Void> recover() {
        LeaderLog state = new LeaderLog();
        return vertx.executeBlocking(() -> Recovery.recover(settings.dataDir(), FileHeader.LEADER, state))
                .compose(rec -> {
                    LOG.info("leader log {}: {} records, {} bytes replayed in {} ms; epoch was {}, followers known: {}, decisions to finish: {}",
                            rec.fresh() ? "created" : "recovered", rec.records(), rec.bytesReplayed(), rec.millis(),
                            state.epoch(), state.registry().size(), state.undecided().size());
                    LogStore.Settings ls = new LogStore.Settings(settings.segmentBytes(), settings.groupCommit(), settings.compactMinBytes());
                    return LogStore.open(vertx, settings.dataDir(), FileHeader.LEADER, ls, LeaderLog::new, rec);
                })
                .compose(store -> {
                    log = store;
                    registry = new Registry(settings.followers());
                    for (LogRecord.Register r : state.registry()) registry.apply(r);
                    if (cluster != null) {
                        // Clustered: the epoch is taken when this leader takes office, and decisions in
                        // our own log are not the whole truth (a standby may have led since): inherited
                        // transactions are resolved by asking the replicas instead.
                        epoch = state.epoch();
                        return Future.succeededFuture();
                    }
                    inherited = state.undecided();
                    epoch = state.epoch() + 1;
                    active = true;
                    return log.append(new LogRecord.Epoch(epoch));
                })
                .map(v -> {
                    monitor = new FollowerMonitor(client, () -> epoch, () -> active, Math.max(1_000, 2 * settings.checkIntervalMillis()),
                            new FollowerMonitor.Listener() {
                                @Override public void health(Member m, boolean up) {
                                    if (coordinator != null) {
                                        coordinator.followerHealth(m.id(), up, now());
                                        runEffects();
                                    }
                                }

                                @Override public void held(Member m, List<Coordinator.Held> held) {
                                    if (coordinator != null && !held.isEmpty()) {
                                        coordinator.heldReport(m.id(), held, now());
                                        runEffects();
                                    }
                                }

                                @Override public void superseded(Member m) {
                                    LOG.warn("follower {} has accepted a newer leader than us (epoch {})", m.address(), epoch);
                                    deposed();
                                }
                            });
                    for (Registry.Entry e : registry.entries()) monitor.track(e.member(), e.identity(), false, null);
                    if (active && registry.full()) startCoordinator();
                    queue = new WorkQueue(vertx, WorkQueue.address(settings.port()), settings.queueCapacity(), this::runJob);
                    vertx.setPeriodic(TICK_MILLIS, t -> tick());
                    vertx.setPeriodic(settings.checkIntervalMillis(), t -> { if (!stopping) monitor.checkAll(); });
                    monitor.checkAll();
                    if (cluster != null) {
                        cluster.onMemberRemoved(context, id -> {
                            monitor.nodeGone(id);
                            // Membership changed: ask everyone now. If it was us who was cut off (a
                            // pause, a partition), a 409 tells us a newer leader took office.
                            monitor.checkAll();
                        });
                        election = new Election(vertx, cluster, settings, this::directoryEntry, this::takeOffice);
                        election.start();
                        vertx.setPeriodic(Election.PUBLISH_MILLIS, t -> checkSuperseded());
                    }
                    LOG.info("leader started{}: epoch {}, {} of {} followers registered, redundancy {}, vnodes {}",
                            cluster == null ? "" : " in the cluster as a standby", epoch, registry.size(), registry.capacity(),
                            Math.min(settings.redundancy(), settings.followers()), settings.vnodes());
                    return null;
                });
    }

    private void startCoordinator() {
        Ring ring = new Ring(registry.members(), settings.redundancy(), settings.vnodes());
        Coordinator.Settings cs = new Coordinator.Settings(settings.opTimeoutMillis(), 100_000, 25, 1_000, settings.cluster(), settings.cluster());
        coordinator = new Coordinator(ring, epoch, cs, inherited);
        for (Member m : ring.members()) coordinator.followerHealth(m.id(), monitor.isUp(m.id()), now());
        inherited = List.of();
        runEffects();
    }

    private void tick() {
        if (coordinator == null || stopping) return;
        if (!announcedReady && ready()) { // the one "ready" line of SPEC.md's log list
            announcedReady = true;
            LOG.info("leader ready: serving clients at epoch {}", epoch);
        }
        coordinator.tick(now());
        runEffects();
    }

    private static long now() {
        return System.nanoTime() / 1_000_000L;
    }

    /* --- Client operations, from the work queue --- */

    private void runJob(long id, WorkQueue.Job job) {
        if (coordinator == null || !ready()) {
            queue.complete(id, new WorkQueue.Done(503, kvstore.core.Errors.UNABLE, null));
            return;
        }
        coordinator.submit(id, job.op(), job.key(), job.value(), now());
        runEffects();
    }

    boolean ready() {
        return active && coordinator != null && monitor.allAnsweredOnce() && !stopping;
    }

    /** Clustered mode: a leader that is not (or no longer) the active one. */
    boolean standby() {
        return !active;
    }

    /* --- Running the coordinator's effects --- */

    private void runEffects() {
        if (coordinator == null) return;
        for (List<Effect> batch = coordinator.drainEffects(); !batch.isEmpty(); batch = coordinator.drainEffects()) {
            for (Effect e : batch) execute(e);
        }
    }

    /**
     * Runs one effect. Completions go back to the coordinator that asked, and only while it is
     * still ours: after a step-down its late answers are dropped.
     */
    private void execute(Effect e) {
        Coordinator c = coordinator;
        if (e instanceof Effect.SendPrepare p) {
            metrics.prepareSent(p.tx());
            client.prepare(p.to(), p.tx(), epoch, p.key(), p.op(), p.value()).onComplete(ar -> {
                metrics.voteReceived(p.tx());
                if (c != coordinator) return;
                FollowerClient.Vote v = ar.result();
                c.voted(p.tx(), p.to().id(), v.kind(), v.reason(), now());
                runEffects();
            });
        } else if (e instanceof Effect.AppendDecision d) {
            long appendedNanos = System.nanoTime();
            log.append(new LogRecord.Decision(d.tx(), d.key(), d.replicaIds())).onSuccess(v -> {
                metrics.decisionDurable(appendedNanos);
                FaultPoints.hit("leader.after-decision-fsync");
                if (c != coordinator) return;
                c.decisionDurable(d.tx(), now());
                runEffects();
            });
        } else if (e instanceof Effect.AppendAbort a) {
            log.append(new LogRecord.Abort(a.tx())).onSuccess(v -> {
                if (c != coordinator) return;
                c.abortDurable(a.tx(), now());
                runEffects();
            });
        } else if (e instanceof Effect.AppendEnd end) {
            log.appendLazy(new LogRecord.End(end.tx()));
        } else if (e instanceof Effect.SendPhase2 p) {
            if (p.delayMillis() > 0) vertx.setTimer(p.delayMillis(), t -> sendPhase2(c, p));
            else sendPhase2(c, p);
        } else if (e instanceof Effect.SendRead r) {
            client.read(r.to(), r.key(), epoch).onComplete(ar -> {
                if (c != coordinator) return;
                FollowerClient.Read read = ar.result();
                c.readDone(r.reqId(), r.to().id(), read.result(), read.value(), now());
                runEffects();
            });
        } else if (e instanceof Effect.Reply r) {
            if (r.status() == 201) FaultPoints.hit("leader.before-client-reply");
            queue.complete(r.reqId(), new WorkQueue.Done(r.status(), r.body(), r.value()));
        } else if (e instanceof Effect.QueryOutcome q) {
            Runnable ask = () -> client.outcome(q.to(), q.tx()).onComplete(ar -> {
                if (c != coordinator) return;
                c.outcomeKnown(q.tx(), q.to().id(), ar.result(), now());
                runEffects();
            });
            if (q.delayMillis() > 0) vertx.setTimer(q.delayMillis(), t -> ask.run());
            else ask.run();
        } else if (e instanceof Effect.Deposed) {
            deposed();
        } else if (e instanceof Effect.Alarm a) {
            LOG.error(a.message());
        }
    }

    private void sendPhase2(Coordinator c, Effect.SendPhase2 p) {
        if (stopping || c != coordinator) return;
        long sentNanos = System.nanoTime();
        client.phase2(p.to(), p.tx(), epoch, p.commit()).onComplete(ar -> {
            metrics.phase2Answered(sentNanos, ar.result());
            if (ar.result() == Coordinator.Phase2Result.ACK && p.commit()) FaultPoints.hit("leader.after-phase2-ack");
            if (c != coordinator) return;
            c.phase2Done(p.tx(), p.to().id(), ar.result(), now());
            runEffects();
        });
    }

    /* --- Clustered mode: taking office, and stepping down --- */

    private JsonObject directoryEntry() {
        return new JsonObject().put("host", settings.advertise()).put("port", boundPort)
                .put("nodeId", cluster.nodeId()).put("state", active ? "active" : takingOffice ? "taking-office" : "standby")
                .put("epoch", epoch);
    }

    /**
     * We hold the leader lock. Take an epoch above any seen, make it durable, and have the
     * followers accept it; once a majority has (durably), the old leader can no longer get a
     * message past them, and we act: resolve what they hold prepared and serve.
     */
    private void takeOffice() {
        if (stopping || active) return;
        takingOffice = true;
        election.highestPublishedEpoch().otherwise(0L).onComplete(ar -> acceptRound(Math.max(epoch, ar.result()) + 1));
    }

    private void acceptRound(long proposed) {
        if (stopping) return;
        epoch = proposed;
        log.append(new LogRecord.Epoch(proposed)).onSuccess(v -> {
            List<Registry.Entry> entries = registry.entries();
            List<Future<FollowerClient.Acceptance>> asks = new ArrayList<>();
            for (Registry.Entry e : entries) asks.add(client.accept(e.member(), proposed, Math.max(1_000, settings.requestTimeoutMillis())));
            Future.join(new ArrayList<>(asks)).onComplete(done -> {
                long higher = 0;
                int accepted = 0;
                for (Future<FollowerClient.Acceptance> f : asks) {
                    FollowerClient.Acceptance a = f.result();
                    if (a == null) continue;
                    higher = Math.max(higher, a.refusedFor());
                    if (a.accepted()) accepted++;
                }
                if (higher >= proposed) {
                    acceptRound(higher + 1); // some follower has seen a newer epoch: go above it
                    return;
                }
                int majority = entries.isEmpty() ? 0 : registry.capacity() / 2 + 1;
                if (accepted < majority) {
                    LOG.warn("epoch {} accepted by {} of {} followers, {} needed: trying again", proposed, accepted, registry.capacity(), majority);
                    vertx.setTimer(1_000, t -> acceptRound(proposed));
                    return;
                }
                active = true;
                takingOffice = false;
                election.publish();
                LOG.info("took office as the active leader: epoch {}, accepted by {} of {} followers", proposed, accepted, registry.capacity());
                if (registry.full()) startCoordinator();
                for (int i = 0; i < entries.size(); i++) {
                    FollowerClient.Acceptance a = asks.get(i).result();
                    if (a != null && a.accepted()) monitor.answered(entries.get(i).member(), a.identity(), a.held());
                }
                monitor.checkAll();
            });
        });
    }

    /** A follower has accepted a newer leader's epoch: in clustered mode, step down. */
    private void deposed() {
        if (cluster == null || !active) return; // alone, there is no one to hand over to: the alarm says why
        LOG.warn("a newer leader has taken office: stepping down to standby (epoch {})", epoch);
        active = false;
        coordinator = null;
        queue.failAll(new WorkQueue.Done(503, kvstore.core.Errors.UNABLE, null));
        election.stepDown();
    }

    /** Another leader published a higher epoch as active (say we were paused): step down. */
    private void checkSuperseded() {
        if (!active || stopping) return;
        election.supersededAt(epoch).onSuccess(yes -> {
            if (yes) deposed();
        });
    }

    /* --- Registration --- */

    /** Outcome of a registration, for the HTTP layer: null on success, else the error body. */
    Future<String> register(String host, int port, String identity, long followerEpoch, String nodeId) {
        Registry.Result r = registry.register(host, port, identity);
        Member m = Member.of(host, port);
        if (!r.ok()) {
            if (r.reason() != null) monitor.refused(m, r.reason());
            else LOG.warn("registration of {} refused: {}", m.address(), r.error());
            return Future.succeededFuture(r.error());
        }
        Future<Void> durable = Future.succeededFuture();
        if (cluster == null && coordinator == null && followerEpoch > epoch) {
            // This follower has seen a newer epoch than ours (our log was lost): move past it.
            epoch = followerEpoch + 1;
            durable = log.append(new LogRecord.Epoch(epoch));
        }
        if (r.record() != null) {
            LogRecord.Register rec = r.record();
            durable = durable.compose(v -> log.append(rec));
        }
        return durable.map(v -> {
            if (r.record() != null) {
                LOG.info("follower {} registered (id {}, {} of {})", m.address(), m.idString(), registry.size(), registry.capacity());
            }
            monitor.track(m, identity, true, nodeId);
            if (active && registry.full() && coordinator == null) {
                startCoordinator();
                LOG.info("all {} followers registered", registry.capacity());
            }
            return null;
        });
    }

    /* --- Views --- */

    Registry registry() { return registry; }

    Coordinator coordinator() { return coordinator; }

    int queueDepth() { return queue == null ? 0 : queue.depth(); }

    /* Views for LeaderMetrics (null until recovery is done). */

    LeaderMetrics metrics() { return metrics; }

    WorkQueue queue() { return queue; }

    FollowerMonitor monitor() { return monitor; }

    FollowerClient followerClient() { return client; }

    LogStore log() { return log; }

    JsonObject status() {
        JsonObject o = new JsonObject()
                .put("role", "leader")
                .put("host", settings.advertise())
                .put("port", boundPort)
                .put("ready", ready())
                .put("standby", !active)
                .put("epoch", epoch)
                .put("capacity", settings.followers())
                .put("redundancy", Math.min(settings.redundancy(), settings.followers()))
                .put("vnodes", settings.vnodes())
                .put("registered", registry == null ? 0 : registry.size())
                .put("followers", monitor == null ? new JsonArray() : monitor.statusJson(coordinator))
                .put("pendingTransactions", coordinator == null ? 0 : coordinator.pendingTransactions())
                .put("pendingPhase2", coordinator == null ? 0 : coordinator.pendingPhase2())
                .put("commits", coordinator == null ? 0 : coordinator.commits())
                .put("aborts", coordinator == null ? 0 : coordinator.aborts())
                .put("queueDepth", queueDepth())
                .put("logBytes", log == null ? 0 : log.logBytes())
                .put("startedAt", startedAtMillis)
                .put("now", System.currentTimeMillis())
                .put("secretRequired", settings.secret() != null)
                .put("tokenRequired", settings.clientToken() != null);
        return o;
    }

    /**
     * A page of keys across the cluster: every follower that is up is asked for the same page,
     * and the answers are merged in UTF-8 byte order without duplicates (replicas overlap).
     */
    Future<JsonObject> keys(String prefix, String after, int limit) {
        List<Member> ups = monitor.upMembers();
        List<Future<JsonObject>> asks = new ArrayList<>();
        for (Member m : ups) asks.add(client.keys(m, prefix, after, limit));
        return Future.join(asks).transform(ar -> {
            TreeSet<String> merged = new TreeSet<>(Keys.UTF8_ORDER);
            boolean more = false;
            int answered = 0;
            for (Future<JsonObject> f : asks) {
                if (f.failed()) continue;
                answered++;
                JsonArray ks = f.result().getJsonArray("keys", new JsonArray());
                for (int i = 0; i < ks.size(); i++) merged.add(ks.getString(i));
                more |= f.result().getValue("next") != null;
            }
            if (answered == 0 && !ups.isEmpty()) return Future.failedFuture("no follower answered");
            List<String> page = new ArrayList<>(Math.min(limit, merged.size()));
            for (String k : merged) {
                if (page.size() == limit) {
                    more = true;
                    break;
                }
                page.add(k);
            }
            String next = more && !page.isEmpty() ? page.get(page.size() - 1) : null;
            return Future.succeededFuture(new JsonObject().put("keys", new JsonArray(new ArrayList<Object>(page))).put("next", next));
        });
    }

    /* --- Stop (SIGTERM): stop accepting, let the log drain, close --- */

    @Override
    public Future<?> stop() {
        stopping = true;
        Future<Void> left = election == null ? Future.succeededFuture() : election.stop().otherwiseEmpty();
        Future<Void> closed = left.compose(x -> server == null ? Future.succeededFuture() : server.close());
        return closed.compose(v -> log == null ? Future.succeededFuture() : log.close())
                .onComplete(ar -> {
                    client.close();
                    metrics.close();
                });
    }
}
