package kvstore.testing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import kvstore.core.Limits;
import kvstore.node.NodeSettings;
import kvstore.follower.FollowerVerticle;
import kvstore.leader.LeaderVerticle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A leader and followers in this JVM, each a real verticle with a real HTTP server on a free
 * loopback port and a real data directory under a temp folder: the real thing, only without
 * process boundaries. Stopping a node undeploys it; starting it again reuses its directory.
 *
 * <p>The nodes share one {@code Vertx}, as in the embedded default. The test owns it: with
 * vertx-junit5 ({@code @ExtendWith(VertxExtension.class)}) it is injected and closed by the
 * extension after the test (or after the class, when injected into {@code @BeforeAll}).
 * {@link #close()} undeploys the nodes that are still up and removes the temp folder.
 */
public final class LocalCluster implements AutoCloseable {
    public final Vertx vertx;
    public final Path root;
    public final int leaderPort;
    public final List<Integer> followerPorts = new ArrayList<>();
    private final int followers, redundancy;
    private final String secret;
    private int queueCapacity = 10_000;
    private String leaderDeployment;
    private final List<String> followerDeployments = new ArrayList<>();

    public LocalCluster(Vertx vertx, int followers, int redundancy) throws IOException {
        this(vertx, followers, redundancy, null);
    }

    public LocalCluster(Vertx vertx, int followers, int redundancy, String secret) throws IOException {
        this.vertx = vertx;
        this.followers = followers;
        this.redundancy = redundancy;
        this.secret = secret;
        this.root = Files.createTempDirectory("kvstore-test");
        this.leaderPort = Ports.free();
        for (int i = 0; i < followers; i++) {
            followerPorts.add(Ports.free());
            followerDeployments.add(null);
        }
    }

    /** A smaller work queue, to see it fill up. */
    public LocalCluster queueCapacity(int n) {
        this.queueCapacity = n;
        return this;
    }

    public NodeSettings leaderSettings() {
        return settings("leader", leaderPort, root.resolve("leader"));
    }

    public NodeSettings followerSettings(int i) {
        return settings("follower", followerPorts.get(i), root.resolve("follower-" + i));
    }

    private NodeSettings settings(String role, int port, Path dir) {
        return new NodeSettings(role, "127.0.0.1", "127.0.0.1", port, dir, followers, redundancy, 1,
                "127.0.0.1", leaderPort, true, secret, null, false, Limits.DEFAULTS, 1 << 20, 2 << 20, true,
                2_000, 5_000, 200, queueCapacity, false, 5701, null, 0, 0);
    }

    /** Starts everything and waits until the leader says it is ready. */
    public LocalCluster start() throws Exception {
        startLeader();
        for (int i = 0; i < followers; i++) startFollower(i);
        awaitReady();
        return this;
    }

    public void startLeader() throws Exception {
        leaderDeployment = vertx.deployVerticle(new LeaderVerticle(leaderSettings())).await(30, TimeUnit.SECONDS);
    }

    public void stopLeader() throws Exception {
        vertx.undeploy(leaderDeployment).await(30, TimeUnit.SECONDS);
        leaderDeployment = null;
    }

    public void startFollower(int i) throws Exception {
        followerDeployments.set(i, vertx.deployVerticle(new FollowerVerticle(followerSettings(i))).await(30, TimeUnit.SECONDS));
    }

    public void stopFollower(int i) throws Exception {
        vertx.undeploy(followerDeployments.get(i)).await(30, TimeUnit.SECONDS);
        followerDeployments.set(i, null);
    }

    /** Which followers hold the key, per the leader's placement (as {@link JarCluster#replicasOf}). */
    public List<Integer> replicasOf(String key) {
        JsonObject p = new JsonObject(Http.get(leader("/api/placement?key=" + Http.enc(key))).body());
        List<Integer> out = new ArrayList<>();
        for (Object o : p.getJsonArray("replicas")) out.add(followerPorts.indexOf(((JsonObject) o).getInteger("port")));
        return out;
    }

    public void awaitReady() {
        Await.until("leader ready", Duration.ofSeconds(30), () -> Http.get(leader("/api/health")).status() == 200);
    }

    public String leader(String pathAndQuery) {
        return "http://127.0.0.1:" + leaderPort + pathAndQuery;
    }

    public String follower(int i, String pathAndQuery) {
        return "http://127.0.0.1:" + followerPorts.get(i) + pathAndQuery;
    }

    public int followerIndex(int port) {
        return followerPorts.indexOf(port);
    }

    public JsonObject status() {
        return new JsonObject(Http.get(leader("/api/status")).body());
    }

    /**
     * Undeploys every node still up, all at once as closing their Vertx would, then removes the
     * data directories. The Vertx itself stays open: it belongs to the test.
     */
    @Override
    public void close() {
        try {
            List<Future<?>> stopping = new ArrayList<>();
            if (leaderDeployment != null) stopping.add(vertx.undeploy(leaderDeployment));
            for (String id : followerDeployments) if (id != null) stopping.add(vertx.undeploy(id));
            Future.all(stopping).await(30, TimeUnit.SECONDS);
            leaderDeployment = null;
            Collections.fill(followerDeployments, null);
        } catch (Exception e) {
            throw new IllegalStateException("stopping the test cluster", e);
        } finally {
            try (Stream<Path> w = Files.walk(root)) {
                w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temp folder left behind is harmless
            }
        }
    }
}
