package kvstore.testing;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Leaders and followers as separate jar processes in clustered mode (SPEC.md section 7): each
 * with its own Hazelcast port on loopback, all listed as TCP-IP members. Followers are started
 * without --leader: they find the leaders in the cluster.
 */
public final class JarClusterMode implements AutoCloseable {
    public final Path dir;
    public final List<Integer> leaderPorts = new ArrayList<>();
    public final List<Integer> followerPorts = new ArrayList<>();
    private final List<Integer> leaderClusterPorts = new ArrayList<>();
    private final List<Integer> followerClusterPorts = new ArrayList<>();
    private final JarNode[] leaders;
    private final JarNode[] followers;
    private final int redundancy;
    private final String members;

    public JarClusterMode(Path dir, int leaders, int followers, int redundancy) {
        this.dir = dir;
        this.redundancy = redundancy;
        this.leaders = new JarNode[leaders];
        this.followers = new JarNode[followers];
        List<String> m = new ArrayList<>();
        for (int i = 0; i < leaders; i++) {
            leaderPorts.add(Ports.free());
            leaderClusterPorts.add(Ports.free());
            m.add("127.0.0.1:" + leaderClusterPorts.get(i));
        }
        for (int i = 0; i < followers; i++) {
            followerPorts.add(Ports.free());
            followerClusterPorts.add(Ports.free());
            m.add("127.0.0.1:" + followerClusterPorts.get(i));
        }
        this.members = String.join(",", m);
    }

    public JarNode startLeader(int i, Map<String, String> env) throws Exception {
        leaders[i] = JarNode.start(dir, env, "leader", String.valueOf(leaderPorts.get(i)), String.valueOf(followers.length),
                String.valueOf(redundancy), "--data-dir", dir.resolve("leader-" + i).toString(), "--cluster",
                "--cluster-port", String.valueOf(leaderClusterPorts.get(i)), "--cluster-members", members);
        leaders[i].awaitOutput("kvstore leader listening on", Duration.ofSeconds(120));
        return leaders[i];
    }

    public JarNode startFollower(int i) throws Exception {
        return startFollower(i, Map.of());
    }

    public JarNode startFollower(int i, Map<String, String> env) throws Exception {
        followers[i] = JarNode.start(dir, env, "follower", String.valueOf(followerPorts.get(i)),
                "--data-dir", dir.resolve("follower-" + i).toString(), "--cluster",
                "--cluster-port", String.valueOf(followerClusterPorts.get(i)), "--cluster-members", members);
        followers[i].awaitOutput("kvstore follower listening on", Duration.ofSeconds(120));
        return followers[i];
    }

    public JarNode leader(int i) {
        return leaders[i];
    }

    public JarNode follower(int i) {
        return followers[i];
    }

    public String leaderUrl(int i, String pathAndQuery) {
        return "http://127.0.0.1:" + leaderPorts.get(i) + pathAndQuery;
    }

    public String followerUrl(int i, String pathAndQuery) {
        return "http://127.0.0.1:" + followerPorts.get(i) + pathAndQuery;
    }

    public JsonObject leaderStatus(int i) {
        Http.Response r = Http.get(leaderUrl(i, "/api/status"));
        return r.status() == 200 ? new JsonObject(r.body()) : null;
    }

    /** Waits until leader i is the active, ready leader. */
    public void awaitActive(int i, Duration timeout) {
        Await.until("leader " + i + " active and ready", timeout, () -> Http.get(leaderUrl(i, "/api/health")).status() == 200);
    }

    /** Waits until leader i has taken office (it may still wait for its followers). */
    public void awaitInOffice(int i, Duration timeout) {
        Await.until("leader " + i + " in office", timeout, () -> {
            JsonObject s = leaderStatus(i);
            return s != null && !s.getBoolean("standby");
        });
    }

    /**
     * The stages of leader {@code l} taking over from leader {@code from}, read from its log: when
     * it had no answer from the active leader for long enough, when its cluster saw the other
     * leader's member leave, when it got the leader lock, took office and was ready (logged by
     * the next 100 ms tick), in ms after {@code sinceMillis} (wall clock); "-" if not logged.
     */
    public String takeoverStages(int l, int from, long sinceMillis) {
        String[][] stages = {
                {"no answer", "has not answered for"},
                {"member left", "cluster member [127.0.0.1]:" + leaderClusterPorts.get(from) + " left"},
                {"lock", "leader lock acquired"},
                {"office", "took office as the active leader"},
                {"ready", "leader ready: serving clients"}};
        long day = 86_400_000L;
        long since = java.time.LocalTime.ofInstant(java.time.Instant.ofEpochMilli(sinceMillis), java.time.ZoneId.systemDefault())
                .toNanoOfDay() / 1_000_000;
        String[] lines = leaders[l].stdout().split("\n");
        StringBuilder out = new StringBuilder();
        for (String[] stage : stages) {
            String at = "-";
            for (String line : lines) {
                if (line.length() < 12 || !line.contains(stage[1])) continue;
                long t;
                try {
                    t = java.time.LocalTime.parse(line.substring(0, 12)).toNanoOfDay() / 1_000_000;
                } catch (java.time.format.DateTimeParseException e) {
                    continue;
                }
                long after = Math.floorMod(t - since, day);
                if (after < day / 2) {
                    at = "+" + after;
                    break;
                }
            }
            if (out.length() > 0) out.append(", ");
            out.append(stage[0]).append(' ').append(at);
        }
        return out.toString();
    }

    /** Whether follower {@code f} is up in leader {@code l}'s status (null if not listed). */
    public Boolean upAt(int l, int f) {
        JsonObject s = leaderStatus(l);
        if (s == null) return null;
        for (Object o : s.getJsonArray("followers")) {
            JsonObject x = (JsonObject) o;
            if (x.getInteger("port").equals(followerPorts.get(f))) return x.getBoolean("up");
        }
        return null;
    }

    /** Each follower's committed value of a key, read directly (null: no key). */
    public Map<Integer, String> valuesOnFollowers(String key) {
        Map<Integer, String> out = new HashMap<>();
        for (int i = 0; i < followerPorts.size(); i++) {
            if (followers[i] == null || !followers[i].alive()) continue;
            Http.Response r = Http.get(followerUrl(i, "/?key=" + Http.enc(key)));
            out.put(i, r.status() == 200 ? r.body() : null);
        }
        return out;
    }

    /** Followers holding the key, per leader l's placement. */
    public List<Integer> replicasOf(int l, String key) {
        JsonObject p = new JsonObject(Http.get(leaderUrl(l, "/api/placement?key=" + Http.enc(key))).body());
        List<Integer> out = new ArrayList<>();
        for (Object o : p.getJsonArray("replicas")) out.add(followerPorts.indexOf(((JsonObject) o).getInteger("port")));
        return out;
    }

    /** Waits until no follower holds a prepared transaction. */
    public void awaitNoPrepared(Duration timeout) {
        Await.until("no prepared transactions on the followers", timeout, () -> {
            for (int i = 0; i < followerPorts.size(); i++) {
                Http.Response r = Http.get(followerUrl(i, "/api/status"));
                if (r.status() != 200 || !new JsonObject(r.body()).getJsonArray("pending").isEmpty()) return false;
            }
            return true;
        });
    }

    @Override
    public void close() {
        for (JarNode f : followers) if (f != null) f.close();
        for (JarNode l : leaders) if (l != null) l.close();
    }
}
