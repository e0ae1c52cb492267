package kvstore.testing;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks of a cluster at rest after a change of shape (SPEC.md section 10), from outside, over
 * HTTP: every key is on every replica the current ring gives it, with the value the leader reads;
 * each member holds exactly the keys the ring gives it (its {@code /api/keys} against
 * {@code /api/placement}); and nothing is prepared anywhere.
 */
public final class ClusterAudit {
    private ClusterAudit() {}

    /** A member as the leader lists it: where to reach it. */
    public record Node(String host, int port) {
        String url(String pathAndQuery) {
            return "http://" + host + ":" + port + pathAndQuery;
        }
    }

    /** The members of the leader's current view. */
    public static List<Node> members(Function<String, String> leader, String... secret) {
        JsonObject m = new JsonObject(Http.get(leader.apply("/api/members"), secret).body());
        List<Node> out = new ArrayList<>();
        for (Object o : m.getJsonArray("members")) {
            JsonObject x = (JsonObject) o;
            out.add(new Node(x.getString("host"), x.getInteger("port")));
        }
        return out;
    }

    /** Every key a node holds (its own key browser, all pages). */
    public static Set<String> keysOf(Node n, String... secret) {
        Set<String> out = new TreeSet<>();
        String after = null;
        while (true) {
            String q = "/api/keys?limit=1000" + (after == null ? "" : "&after=" + Http.enc(after));
            JsonObject page = new JsonObject(Http.get(n.url(q), secret).body());
            for (Object k : page.getJsonArray("keys")) out.add((String) k);
            after = page.getString("next");
            if (after == null) return out;
        }
    }

    /** The replicas of a key in the leader's current view. */
    public static List<Node> replicasOf(Function<String, String> leader, String key) {
        JsonObject p = new JsonObject(Http.get(leader.apply("/api/placement?key=" + Http.enc(key))).body());
        List<Node> out = new ArrayList<>();
        for (Object o : p.getJsonArray("replicas")) {
            JsonObject x = (JsonObject) o;
            out.add(new Node(x.getString("host"), x.getInteger("port")));
        }
        return out;
    }

    /**
     * The whole audit. {@code finals}: the value the leader reads for each key the clients used
     * (null: absent). Keys outside {@code finals} that a member holds must also be placed there.
     */
    public static void check(Function<String, String> leader, Map<String, String> finals, String... secret) {
        List<Node> members = members(leader, secret);
        Map<Node, Set<String>> held = new HashMap<>();
        Set<String> all = new TreeSet<>(finals.keySet());
        for (Node n : members) {
            held.put(n, keysOf(n, secret));
            all.addAll(held.get(n));
        }
        List<String> problems = new ArrayList<>();
        for (String key : all) {
            List<Node> replicas = replicasOf(leader, key);
            String expected = finals.containsKey(key) ? finals.get(key) : readThroughLeader(leader, key);
            for (Node n : members) {
                boolean should = replicas.contains(n) && expected != null;
                boolean has = held.get(n).contains(key);
                if (should != has) problems.add(n.port + (has ? " holds " : " lacks ") + key + " (replicas " + ports(replicas) + ")");
                if (should && has) {
                    Http.Response r = Http.get(n.url("/?key=" + Http.enc(key)), secret);
                    if (!Objects.equals(expected, r.status() == 200 ? r.body() : null)) {
                        problems.add(n.port + " has " + key + "=" + r.body() + ", the leader reads " + expected);
                    }
                }
            }
        }
        assertEquals(List.of(), problems.subList(0, Math.min(problems.size(), 20)),
                problems.size() + " problems: each follower holds exactly the keys the current ring gives it, with the latest value");
        for (Node n : members) {
            JsonObject s = new JsonObject(Http.get(n.url("/api/status"), secret).body());
            assertTrue(s.getJsonArray("pending").isEmpty(), n.port + " holds prepared transactions: " + s.getJsonArray("pending"));
        }
    }

    private static String readThroughLeader(Function<String, String> leader, String key) {
        Http.Response r = Http.get(leader.apply("/?key=" + Http.enc(key)));
        return r.status() == 200 ? r.body() : null;
    }

    private static List<Integer> ports(List<Node> ns) {
        List<Integer> out = new ArrayList<>();
        for (Node n : ns) out.add(n.port);
        return out;
    }

    /** Waits until the leader says no key is moving and the view is settled. */
    public static void awaitSettled(Function<String, String> leader, java.time.Duration timeout, String... secret) {
        Await.until("no key moving", timeout, () -> {
            Http.Response r = Http.get(leader.apply("/api/members"), secret);
            if (r.status() != 200) return false;
            JsonObject m = new JsonObject(r.body());
            if (m.getValue("rebalancing") != null) return false;
            for (Object o : m.getJsonArray("members")) if (!"up".equals(((JsonObject) o).getString("state"))) return false;
            JsonObject st = new JsonObject(Http.get(leader.apply("/api/status")).body());
            if (st.getInteger("pendingTransactions") != 0) return false;
            // Followers learn the settled view from the leader's next message (they drop the keys
            // that moved away then): each must have logged the leader's view.
            long view = m.getLong("view", 0L);
            for (Node n : members(leader, secret)) {
                Http.Response fr = Http.get(n.url("/api/status"), secret);
                if (fr.status() != 200 || new JsonObject(fr.body()).getLong("view", -1L) != view) return false;
            }
            return true;
        });
    }
}
