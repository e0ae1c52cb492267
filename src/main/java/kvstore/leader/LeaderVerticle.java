package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Keys;
import kvstore.core.LeaderLog;
import kvstore.core.Member;
import kvstore.core.NodeSettings;
import kvstore.core.Op;
import kvstore.core.Registry;
import kvstore.core.Ring;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Coordinator;
import kvstore.core.tpc.Effect;
import kvstore.fault.FaultPoints;
import kvstore.http.ServerOptions;
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
    private LeaderMetrics metrics;
    private boolean announcedReady;

    public LeaderVerticle(NodeSettings settings) {
        this.settings = settings;
    }

    @Override
    public Future<?> start() {
        startedAtMillis = System.currentTimeMillis();
        client = new FollowerClient(vertx, settings.secret(), settings.requestTimeoutMillis());
        metrics = new LeaderMetrics(this);
        LeaderHttp http = new LeaderHttp(vertx, this, settings);
        server = vertx.createHttpServer(ServerOptions.forLimits(settings.limits())).requestHandler(http::handle);
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
                    LOG.info("leader log {}: {} records, {} bytes replayed in {} ms; epoch was {}, {} followers known, {} decisions to finish",
                            rec.fresh() ? "created" : "recovered", rec.records(), rec.bytesReplayed(), rec.millis(),
                            state.epoch(), state.registry().size(), state.undecided().size());
                    LogStore.Settings ls = new LogStore.Settings(settings.segmentBytes(), settings.groupCommit(), settings.compactMinBytes());
                    return LogStore.open(vertx, settings.dataDir(), FileHeader.LEADER, ls, LeaderLog::new, rec);
                })
                .compose(store -> {
                    log = store;
                    registry = new Registry(settings.followers());
                    for (LogRecord.Register r : state.registry()) registry.apply(r);
                    inherited = state.undecided();
                    epoch = state.epoch() + 1;
                    return log.append(new LogRecord.Epoch(epoch));
                })
                .map(v -> {
                    monitor = new FollowerMonitor(client, () -> epoch, Math.min(settings.requestTimeoutMillis(), settings.checkIntervalMillis()),
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
                            });
                    for (Registry.Entry e : registry.entries()) monitor.track(e.member(), e.identity(), false);
                    if (registry.full()) startCoordinator();
                    queue = new WorkQueue(vertx, WorkQueue.address(settings.port()), settings.queueCapacity(), this::runJob);
                    vertx.setPeriodic(TICK_MILLIS, t -> tick());
                    vertx.setPeriodic(settings.checkIntervalMillis(), t -> { if (!stopping) monitor.checkAll(); });
                    monitor.checkAll();
                    LOG.info("leader started: epoch {}, {} of {} followers registered, redundancy {}, vnodes {}",
                            epoch, registry.size(), registry.capacity(), Math.min(settings.redundancy(), settings.followers()), settings.vnodes());
                    return null;
                });
    }

    private void startCoordinator() {
        Ring ring = new Ring(registry.members(), settings.redundancy(), settings.vnodes());
        Coordinator.Settings cs = new Coordinator.Settings(settings.opTimeoutMillis(), 100_000, 25, 1_000, settings.cluster());
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
        return coordinator != null && monitor.allAnsweredOnce() && !stopping;
    }

    /* --- Running the coordinator's effects --- */

    private void runEffects() {
        if (coordinator == null) return;
        for (List<Effect> batch = coordinator.drainEffects(); !batch.isEmpty(); batch = coordinator.drainEffects()) {
            for (Effect e : batch) execute(e);
        }
    }

    private void execute(Effect e) {
        if (e instanceof Effect.SendPrepare p) {
            metrics.prepareSent(p.tx());
            client.prepare(p.to(), p.tx(), epoch, p.key(), p.op(), p.value()).onComplete(ar -> {
                metrics.voteReceived(p.tx());
                FollowerClient.Vote v = ar.result();
                coordinator.voted(p.tx(), p.to().id(), v.kind(), v.reason(), now());
                runEffects();
            });
        } else if (e instanceof Effect.AppendDecision d) {
            long appendedNanos = System.nanoTime();
            log.append(new LogRecord.Decision(d.tx(), d.key(), d.replicaIds())).onSuccess(v -> {
                metrics.decisionDurable(appendedNanos);
                FaultPoints.hit("leader.after-decision-fsync");
                coordinator.decisionDurable(d.tx(), now());
                runEffects();
            });
        } else if (e instanceof Effect.AppendAbort a) {
            log.append(new LogRecord.Abort(a.tx())).onSuccess(v -> {
                coordinator.abortDurable(a.tx(), now());
                runEffects();
            });
        } else if (e instanceof Effect.AppendEnd end) {
            log.appendLazy(new LogRecord.End(end.tx()));
        } else if (e instanceof Effect.SendPhase2 p) {
            if (p.delayMillis() > 0) vertx.setTimer(p.delayMillis(), t -> sendPhase2(p));
            else sendPhase2(p);
        } else if (e instanceof Effect.SendRead r) {
            client.read(r.to(), r.key(), epoch).onComplete(ar -> {
                FollowerClient.Read read = ar.result();
                coordinator.readDone(r.reqId(), r.to().id(), read.result(), read.value(), now());
                runEffects();
            });
        } else if (e instanceof Effect.Reply r) {
            if (r.status() == 201) FaultPoints.hit("leader.before-client-reply");
            queue.complete(r.reqId(), new WorkQueue.Done(r.status(), r.body(), r.value()));
        } else if (e instanceof Effect.Alarm a) {
            LOG.error(a.message());
        }
    }

    private void sendPhase2(Effect.SendPhase2 p) {
        if (stopping) return;
        long sentNanos = System.nanoTime();
        client.phase2(p.to(), p.tx(), epoch, p.commit()).onComplete(ar -> {
            metrics.phase2Answered(sentNanos, ar.result());
            if (ar.result() == Coordinator.Phase2Result.ACK && p.commit()) FaultPoints.hit("leader.after-first-phase2");
            coordinator.phase2Done(p.tx(), p.to().id(), ar.result(), now());
            runEffects();
        });
    }

    /* --- Registration --- */

    /** Outcome of a registration, for the HTTP layer: null on success, else the error body. */
    Future<String> register(String host, int port, String identity, long followerEpoch) {
        Registry.Result r = registry.register(host, port, identity);
        Member m = Member.of(host, port);
        if (!r.ok()) {
            if (r.reason() != null) monitor.refused(m, r.reason());
            else LOG.warn("registration of {} refused: {}", m.address(), r.error());
            return Future.succeededFuture(r.error());
        }
        Future<Void> durable = Future.succeededFuture();
        if (coordinator == null && followerEpoch >= epoch) {
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
            monitor.track(m, identity, true);
            if (registry.full() && coordinator == null) {
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

    LogStore log() { return log; }

    JsonObject status() {
        JsonObject o = new JsonObject()
                .put("role", "leader")
                .put("host", settings.advertise())
                .put("port", boundPort)
                .put("ready", ready())
                .put("standby", false)
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
                .put("startedAt", startedAtMillis);
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
        Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
        return closed.compose(v -> log == null ? Future.succeededFuture() : log.close())
                .onComplete(ar -> {
                    client.close();
                    metrics.close();
                });
    }
}
