package kvstore.testing;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A leader and followers as separate {@code java -jar} processes on free loopback ports, each
 * with its own data directory under {@code dir}: what a lab runs, and what crash tests kill.
 * Extra environment (a fault point, a secret) can be given per start.
 */
public final class JarCluster implements AutoCloseable {
    public final Path dir;
    public final int leaderPort;
    public final List<Integer> followerPorts = new ArrayList<>();
    private final int redundancy;
    private final List<String> extraArgs;
    private JarNode leader;
    private final List<JarNode> followers = new ArrayList<>();

    public JarCluster(Path dir, int followers, int redundancy, String... extraArgs) {
        this.dir = dir;
        this.redundancy = redundancy;
        this.extraArgs = List.of(extraArgs);
        this.leaderPort = Ports.free();
        for (int i = 0; i < followers; i++) {
            followerPorts.add(Ports.free());
            this.followers.add(null);
        }
    }

    public JarCluster start() throws Exception {
        startLeader(Map.of());
        for (int i = 0; i < followers.size(); i++) startFollower(i, Map.of());
        awaitReady();
        return this;
    }

    public JarNode startLeader(Map<String, String> env) throws Exception {
        List<String> args = new ArrayList<>(List.of("leader", String.valueOf(leaderPort), String.valueOf(followers.size()),
                String.valueOf(redundancy), "--data-dir", dir.resolve("leader").toString()));
        args.addAll(extraArgs);
        leader = JarNode.start(dir, env, args.toArray(new String[0]));
        leader.awaitOutput("kvstore leader listening on", Duration.ofSeconds(60));
        return leader;
    }

    public JarNode startFollower(int i, Map<String, String> env) throws Exception {
        List<String> args = new ArrayList<>(List.of("follower", String.valueOf(followerPorts.get(i)), String.valueOf(leaderPort),
                "--data-dir", dir.resolve("follower-" + i).toString()));
        args.addAll(extraArgs);
        JarNode n = JarNode.start(dir, env, args.toArray(new String[0]));
        followers.set(i, n);
        n.awaitOutput("kvstore follower listening on", Duration.ofSeconds(60));
        return n;
    }

    /** A new follower (the next index, a free port), not started: e.g. to join a running cluster. */
    public int addFollower() {
        followerPorts.add(Ports.free());
        followers.add(null);
        return followerPorts.size() - 1;
    }

    /** The leader's URL for a path and query, as a function (for the workload and the audit). */
    public java.util.function.Function<String, String> leaderUrl() {
        return this::leader;
    }

    public JarNode leaderNode() {
        return leader;
    }

    public JarNode followerNode(int i) {
        return followers.get(i);
    }

    public void awaitReady() {
        Await.until("leader ready", Duration.ofSeconds(60), () -> Http.get(leader("/api/health")).status() == 200);
    }

    /** Waits until follower i is registered and the leader sees it up. */
    public void awaitFollowerUp(int i) {
        int port = followerPorts.get(i);
        Await.until("follower " + port + " registered and up", Duration.ofSeconds(60), () -> {
            if (Http.get(follower(i, "/api/health")).status() != 200) return false;
            Http.Response ls = Http.get(leader("/api/status"));
            if (ls.status() != 200) return false;
            for (Object o : new JsonObject(ls.body()).getJsonArray("followers")) {
                JsonObject f = (JsonObject) o;
                if (f.getInteger("port") == port) return f.getBoolean("up");
            }
            return false;
        });
    }

    /** Waits until no follower holds a prepared transaction and the leader has nothing pending. */
    public void awaitQuiet(Duration timeout) {
        Await.until("no prepared transactions anywhere", timeout, () -> {
            Http.Response ls = Http.get(leader("/api/status"));
            if (ls.status() != 200) return false;
            JsonObject s = new JsonObject(ls.body());
            if (s.getInteger("pendingTransactions") != 0 || !s.getBoolean("ready")) return false;
            for (int i = 0; i < followerPorts.size(); i++) {
                Http.Response fs = Http.get(follower(i, "/api/status"));
                if (fs.status() != 200) return false;
                if (!new JsonObject(fs.body()).getJsonArray("pending").isEmpty()) return false;
            }
            return true;
        });
    }

    public String leader(String pathAndQuery) {
        return "http://127.0.0.1:" + leaderPort + pathAndQuery;
    }

    public String follower(int i, String pathAndQuery) {
        return "http://127.0.0.1:" + followerPorts.get(i) + pathAndQuery;
    }

    /** Each follower's committed value of a key (null for "no key"), read directly. */
    public Map<Integer, String> valuesOnFollowers(String key) {
        Map<Integer, String> out = new HashMap<>();
        for (int i = 0; i < followerPorts.size(); i++) {
            Http.Response r = Http.get(follower(i, "/?key=" + Http.enc(key)));
            out.put(i, r.status() == 200 ? r.body() : null);
        }
        return out;
    }

    /** Which followers hold the key, per the leader's placement. */
    public List<Integer> replicasOf(String key) {
        JsonObject p = new JsonObject(Http.get(leader("/api/placement?key=" + Http.enc(key))).body());
        List<Integer> out = new ArrayList<>();
        for (Object o : p.getJsonArray("replicas")) out.add(followerPorts.indexOf(((JsonObject) o).getInteger("port")));
        return out;
    }

    @Override
    public void close() {
        for (JarNode f : followers) if (f != null) f.close();
        if (leader != null) leader.close();
    }
}
