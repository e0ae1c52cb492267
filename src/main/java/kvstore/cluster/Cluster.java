package kvstore.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.shareddata.Lock;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Clustered mode (SPEC.md section 7): the Vert.x cluster on Hazelcast through vertx-hazelcast,
 * with our own configuration: members found by TCP-IP only (no multicast, no cloud
 * auto-detection), Hazelcast's phone-home off, bound to the node's address, its logging through
 * SLF4J (quiet: WARN and up), and heartbeats tuned so that a silent member (dead, paused, cut
 * off) is removed 2 to 4 seconds after its last heartbeat (the default is about a minute). A
 * kill -9 is noticed at once (connection refused).
 *
 * <p>What the nodes use it for: membership events (a follower's death marks it down at once),
 * a cluster-wide lock that only the active leader holds (a standby waits on it), and a small
 * directory map in which leaders publish their HTTP address and epoch, so followers find them.
 *
 * <p>Hazelcast's traffic is not authenticated in its open-source edition: bind it to a private
 * network (README, "Clustered mode").
 */
public final class Cluster {
    /** Where this node's Hazelcast listens and whom it joins (SPEC.md section 7). */
    public record Settings(String host, String advertise, int clusterPort, String clusterMembers) {}

    public static final String LEADER_LOCK = "kvstore.leader";
    public static final String DIRECTORY = "kvstore.directory";
    static final int PARTITIONS = 23;
    static final int MERGE_CHECK_SECONDS = 5;

    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);

    private final Vertx vertx;
    private final HazelcastClusterManager manager;
    private final AtomicLong merges = new AtomicLong();

    private Cluster(Vertx vertx, HazelcastClusterManager manager) {
        this.vertx = vertx;
        this.manager = manager;
        HazelcastInstance hz = manager.getHazelcastInstance();
        // One line per membership change (Hazelcast's own narration is silenced in logback.xml).
        hz.getCluster().addMembershipListener(new MembershipListener() {
            @Override public void memberAdded(MembershipEvent e) {
                LOG.info("cluster member {} joined", e.getMember().getAddress());
            }

            @Override public void memberRemoved(MembershipEvent e) {
                LOG.info("cluster member {} left", e.getMember().getAddress());
            }
        });
        hz.getLifecycleService().addLifecycleListener(e -> {
            if (e.getState() == LifecycleEvent.LifecycleState.MERGING) {
                merges.incrementAndGet();
                LOG.warn("this node was cut off from the cluster (paused, partitioned or suspected) and merges back into it");
            } else if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
                LOG.info("merged back into the cluster");
            }
        });
    }

    /** Joins (or forms) the cluster with Vert.x {@code options} (its event bus set here); the future completes with the clustered node. */
    public static Future<Cluster> start(Settings s, VertxOptions options) {
        HazelcastClusterManager manager = new HazelcastClusterManager(hazelcastConfig(s));
        options.getEventBusOptions().setHost(s.host()).setPort(0).setClusterPublicHost(s.advertise());
        return Vertx.builder().with(options).withClusterManager(manager).buildClustered()
                .map(v -> new Cluster(v, manager));
    }

    static Config hazelcastConfig(Settings s) {
        Config c = new Config();
        c.setClusterName("kvstore");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.shutdownhook.enabled", "false");
        // A silent member (paused, cut off) is suspected 3 s after its last heartbeat; heartbeats
        // go every second (the smallest interval Hazelcast takes), so it is removed 2 to 4 s
        // after it fell silent. Shorter removes live members of a loaded machine: members of a
        // 2-core machine under full load were seen silent for 3.5 s.
        c.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        c.setProperty("hazelcast.max.no.heartbeat.seconds", "3");
        c.setProperty("hazelcast.wait.seconds.before.join", "1");
        // Few partitions: the cluster holds a handful of entries, and every membership change
        // moves partitions (271 by default: 225 to 327 migrations on each removal here, 800 at
        // start-up, all while a standby takes over). The count must be the same on every node.
        c.setProperty("hazelcast.partition.count", String.valueOf(PARTITIONS));
        // A member removed while alive (a pause, a partition, a false suspicion under load) forms
        // a cluster of its own and would rejoin only when the split-brain check first runs, 300 s
        // by default: until then it holds its own copy of the leader lock and directory. Look for
        // the other half every few seconds instead.
        c.setProperty("hazelcast.merge.first.run.delay.seconds", String.valueOf(MERGE_CHECK_SECONDS));
        c.setProperty("hazelcast.merge.next.run.delay.seconds", String.valueOf(MERGE_CHECK_SECONDS));
        boolean wildcard = s.host().equals("0.0.0.0") || s.host().equals("::");
        c.setProperty("hazelcast.socket.bind.any", String.valueOf(wildcard));
        NetworkConfig n = c.getNetworkConfig();
        n.setPort(s.clusterPort()).setPortAutoIncrement(false);
        if (!wildcard) n.getInterfaces().setEnabled(true).addInterface(s.host());
        n.setPublicAddress(s.advertise() + ":" + s.clusterPort());
        JoinConfig j = n.getJoin();
        j.getMulticastConfig().setEnabled(false);
        j.getAutoDetectionConfig().setEnabled(false);
        j.getTcpIpConfig().setEnabled(true).setMembers(members(s));
        // The maps Vert.x itself needs (from vertx-hazelcast's default-cluster.xml).
        c.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
                .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
        c.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
        c.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
        c.addMapConfig(new MapConfig(DIRECTORY).setBackupCount(1));
        return c;
    }

    static List<String> members(Settings s) {
        List<String> out = new ArrayList<>();
        if (s.clusterMembers() != null) {
            for (String m : s.clusterMembers().split(",")) if (!m.isBlank()) out.add(m.trim());
        }
        if (out.isEmpty()) out.add(s.advertise() + ":" + s.clusterPort());
        return out;
    }

    public Vertx vertx() {
        return vertx;
    }

    /** This node's id in the cluster (Hazelcast's member UUID). */
    public String nodeId() {
        return manager.getNodeId();
    }

    /** Calls {@code listener} on {@code context} with the id of every member that leaves or dies. */
    public void onMemberRemoved(Context context, Consumer<String> listener) {
        manager.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
            @Override public void memberAdded(MembershipEvent e) {}

            @Override public void memberRemoved(MembershipEvent e) {
                String id = e.getMember().getUuid().toString();
                context.runOnContext(v -> listener.accept(id));
            }
        });
    }

    /**
     * How many times this node has merged back into the cluster after being cut off from it.
     * Hazelcast drops the merging side's locks, so a lock taken before a merge is no longer held:
     * releasing it (a force-unlock, in vertx-hazelcast) would free whoever holds it now.
     */
    public long merges() {
        return merges.get();
    }

    /** The lock that makes a leader the active one; completes when acquired or fails on timeout. */
    public Future<Lock> leaderLock(long timeoutMillis) {
        return vertx.sharedData().getLockWithTimeout(LEADER_LOCK, timeoutMillis);
    }

    /** Where leaders publish themselves: "leader.NODEID" to a JSON object. */
    public Future<AsyncMap<String, String>> directory() {
        return vertx.sharedData().getAsyncMap(DIRECTORY);
    }
}
