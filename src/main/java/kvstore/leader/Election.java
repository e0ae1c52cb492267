package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.shareddata.Lock;
import kvstore.cluster.Cluster;
import kvstore.node.NodeSettings;
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
 */
final class Election {
    private static final Logger LOG = LoggerFactory.getLogger(Election.class);
    static final long PUBLISH_MILLIS = 2_000;
    static final long TTL_MILLIS = 10_000;
    static final long LOCK_WAIT_MILLIS = 5_000;
    static final long FRESH_EPOCH_WAIT_MILLIS = 100;

    private final Vertx vertx;
    private final Cluster cluster;
    private final NodeSettings settings;
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

    Election(Vertx vertx, Cluster cluster, NodeSettings settings, Supplier<JsonObject> self, Runnable onAcquired) {
        this.vertx = vertx;
        this.cluster = cluster;
        this.settings = settings;
        this.self = self;
        this.onAcquired = onAcquired;
    }

    void start() {
        publish();
        readHighestEpoch();
        vertx.setPeriodic(PUBLISH_MILLIS, t -> {
            publish();
            readHighestEpoch();
        });
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
                LOG.info("leader lock acquired: taking office");
                onAcquired.run();
            } else {
                waitForLock(); // another leader is active; keep waiting
            }
        });
    }

    /** We were deposed: give the lock back and wait for it again, as a standby. */
    void stepDown() {
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
            for (String v : entries.values()) {
                try {
                    max = Math.max(max, new JsonObject(v).getLong("epoch", 0L));
                } catch (RuntimeException ignored) {
                    // not one of ours
                }
            }
            highestSeen = Math.max(highestSeen, max);
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
        releaseLock();
        return cluster.directory().compose(map -> map.remove(key())).mapEmpty();
    }
}
