package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.shareddata.Lock;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import kvstore.cluster.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/**
 * Which leader is the active one, in clustered mode (PROTOCOL.md, "Standby leader").
 *
 * <p>Every leader process publishes itself in the cluster's directory ({@code leader.NODEID}:
 * host, port, state, epoch; refreshed every 2 s with a 10 s time to live), so followers find
 * every leader and register with each. The active leader is the one holding the cluster lock; a
 * standby waits on it. When the active leader dies, Hazelcast notices (at once for a kill -9,
 * 2 to 4 s after its last heartbeat for a pause), the lock goes to a standby, and
 * {@link #onAcquired} runs its takeover. The lock only says who may try: what makes the takeover
 * safe is the epoch that a majority of the followers durably accept before the new leader acts.
 *
 * <p>A standby also watches the active leader itself ({@code GET /api/health} every
 * {@link #PROBE_MILLIS}; any answer, even 503, means it is alive). The lock moves only when
 * Hazelcast removes the silent member, and when that member is Hazelcast's master the others
 * must first agree on a new one: on the loaded 2-core machine the removal came 8.4 and 9.1 s
 * after a pause in 2 of 20 runs (3 to 4.3 s in the others). A standby that has had no answer from
 * the active leader for {@link #SILENCE_MILLIS} takes office without the lock; it keeps waiting
 * for the lock and takes it once Hazelcast lets it go. Stepping down ends that state.
 */
final class Election {
    private static final Logger LOG = LoggerFactory.getLogger(Election.class);
    static final long PUBLISH_MILLIS = 2_000;
    static final long TTL_MILLIS = 10_000;
    static final long LOCK_WAIT_MILLIS = 5_000;
    static final long FRESH_EPOCH_WAIT_MILLIS = 100;
    static final long PROBE_MILLIS = 500;
    static final long PROBE_TIMEOUT_MILLIS = 1_000;
    static final long SILENCE_MILLIS = 4_000;

    private final Vertx vertx;
    private final Cluster cluster;
    private final Supplier<JsonObject> self;
    private final Runnable onAcquired;
    private Lock lock;
    /** {@link Cluster#merges()} when {@link #lock} was taken. */
    private long lockMerges;
    private boolean stopped;
    private boolean waiting;
    /** The highest epoch seen in the directory so far (read every {@link #PUBLISH_MILLIS}). */
    private volatile long highestSeen;
    private Future<Long> reading;
    /** onAcquired has run since we started or last stepped down (with or without the lock). */
    private boolean inOffice;
    /** The active leader seen in the directory (not us): "host:port", and when it last answered. */
    private String active;
    private long activeHeardNanos;
    private boolean probing;
    private WebClient probes;

    Election(Vertx vertx, Cluster cluster, Supplier<JsonObject> self, Runnable onAcquired) {
        this.vertx = vertx;
        this.cluster = cluster;
        this.self = self;
        this.onAcquired = onAcquired;
    }

    void start() {
        probes = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false)
                .setConnectTimeout((int) PROBE_TIMEOUT_MILLIS).setUserAgentEnabled(false));
        publish();
        readHighestEpoch();
        vertx.setPeriodic(PUBLISH_MILLIS, t -> {
            publish();
            readHighestEpoch();
        });
        vertx.setPeriodic(PROBE_MILLIS, t -> probeActive());
        waitForLock();
    }

    /** Publishes (or refreshes) this leader's directory entry. */
    void publish() {
        if (stopped) return;
        cluster.directory().onSuccess(map -> map.put(key(), self.get().encode(), TTL_MILLIS));
    }

    private String key() {
        return "leader." + cluster.nodeId();
    }

    private void waitForLock() {
        if (stopped || waiting || lock != null) return;
        waiting = true;
        cluster.leaderLock(LOCK_WAIT_MILLIS).onComplete(ar -> {
            waiting = false;
            if (stopped) {
                if (ar.succeeded()) ar.result().release();
                return;
            }
            if (ar.succeeded()) {
                lock = ar.result();
                lockMerges = cluster.merges();
                if (inOffice) {
                    LOG.info("leader lock acquired (already in office)");
                } else {
                    LOG.info("leader lock acquired: taking office");
                    takeOffice();
                }
            } else {
                waitForLock(); // another leader is active; keep waiting
            }
        });
    }

    private void takeOffice() {
        inOffice = true;
        onAcquired.run();
    }

    /**
     * While a standby, asks the active leader whether it is alive. No answer for
     * {@link #SILENCE_MILLIS} (counted from its last answer, or from when we first saw it in the
     * directory): take office without waiting for Hazelcast to remove it.
     */
    private void probeActive() {
        if (stopped || inOffice || probing || active == null) return;
        String target = active;
        int colon = target.lastIndexOf(':');
        probing = true;
        probes.get(Integer.parseInt(target.substring(colon + 1)), target.substring(0, colon), "/api/health")
                .timeout(PROBE_TIMEOUT_MILLIS).send().onComplete(ar -> {
                    probing = false;
                    if (!target.equals(active)) return;
                    if (ar.succeeded()) {
                        activeHeardNanos = System.nanoTime();
                        return;
                    }
                    long silentMillis = (System.nanoTime() - activeHeardNanos) / 1_000_000;
                    if (silentMillis >= SILENCE_MILLIS && !inOffice && !stopped) {
                        LOG.warn("the active leader {} has not answered for {} ms: taking office without the leader lock "
                                + "(a majority of the followers still has to accept our epoch)", target, silentMillis);
                        takeOffice();
                    }
                });
    }

    /** We were deposed: give the lock back and wait for it again, as a standby. */
    void stepDown() {
        inOffice = false;
        activeHeardNanos = System.nanoTime(); // the silence of whoever deposed us counts from now
        releaseLock();
        publish();
        vertx.setTimer(1_000, t -> waitForLock());
    }

    /**
     * The highest epoch any leader has published (0 if none seen): where a new epoch starts.
     *
     * <p>It is a hint, not a safety condition: a follower refuses a claim for an epoch it has
     * already reached and says which one it has, and the claim goes above that at once. So we do
     * not wait for a fresh read of the directory for long: right after a member is removed,
     * Hazelcast answers a query over all partitions only once the partition table is repaired,
     * which took from 0.2 to 4 s on a loaded machine, and that is the moment a standby takes
     * office. A fresh read that comes within {@link #FRESH_EPOCH_WAIT_MILLIS} is used; otherwise
     * the highest epoch seen by the periodic reads (at most {@link #PUBLISH_MILLIS} old).
     */
    Future<Long> highestPublishedEpoch() {
        Promise<Long> answer = Promise.promise();
        readHighestEpoch().onComplete(ar -> answer.tryComplete(highestSeen));
        vertx.setTimer(FRESH_EPOCH_WAIT_MILLIS, t -> answer.tryComplete(highestSeen));
        return answer.future();
    }

    /** Reads the directory (one read at a time) and remembers the highest epoch published in it. */
    private Future<Long> readHighestEpoch() {
        if (reading != null) return reading;
        Future<Long> read = cluster.directory().compose(AsyncMap::entries).map(entries -> {
            long max = 0;
            String activeNow = null;
            long activeEpoch = -1;
            for (var e : entries.entrySet()) {
                try {
                    JsonObject o = new JsonObject(e.getValue());
                    long epoch = o.getLong("epoch", 0L);
                    max = Math.max(max, epoch);
                    if (!e.getKey().equals(key()) && "active".equals(o.getString("state")) && epoch > activeEpoch) {
                        activeNow = o.getString("host") + ":" + o.getInteger("port");
                        activeEpoch = epoch;
                    }
                } catch (RuntimeException ignored) {
                    // not one of ours
                }
            }
            highestSeen = Math.max(highestSeen, max);
            if (activeNow != null && !activeNow.equals(active)) activeHeardNanos = System.nanoTime(); // newly seen: alive
            active = activeNow;
            return highestSeen;
        });
        reading = read;
        read.onComplete(ar -> reading = null);
        return read;
    }

    /** Another leader has published a higher epoch than ours as active: we must not act. */
    Future<Boolean> supersededAt(long ourEpoch) {
        return cluster.directory().compose(AsyncMap::entries).map(entries -> {
            for (var e : entries.entrySet()) {
                if (e.getKey().equals(key())) continue;
                try {
                    JsonObject o = new JsonObject(e.getValue());
                    if ("active".equals(o.getString("state")) && o.getLong("epoch", 0L) > ourEpoch) return true;
                } catch (RuntimeException ignored) {
                    // not one of ours
                }
            }
            return false;
        });
    }

    /**
     * Gives the lock back, unless this node merged back into the cluster since it took it: the
     * merge dropped it, and vertx-hazelcast's release is a force-unlock that would free the lock
     * of the leader that holds it now (a paused leader resumed, stepped down, and the two leaders
     * then took the lock from each other in turn).
     */
    private void releaseLock() {
        if (lock == null) return;
        if (cluster.merges() == lockMerges) {
            lock.release();
        } else {
            LOG.info("not releasing the leader lock: this node merged back into the cluster since it took it, so the lock is gone");
        }
        lock = null;
    }

    Future<Void> stop() {
        stopped = true;
        if (probes != null) probes.close();
        releaseLock();
        return cluster.directory().compose(map -> map.remove(key())).mapEmpty();
    }
}
