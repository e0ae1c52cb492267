package kvstore.it;

import kvstore.testing.Http;
import kvstore.testing.JarCluster;
import kvstore.testing.JarNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 5, at every step of two-phase commit: the real jar is made to halt (like
 * kill -9) at a named fault point in the middle of a PUT or a DELETE, restarted on the same data
 * directory, and then every acknowledged write is on every replica, a refused write is nowhere,
 * and the replicas agree. A leader and two followers with redundancy 2 (every key on both).
 *
 * <p>Each case: write some keys, restart the victim with the fault armed, run the operation
 * (the victim halts with exit code 137), restart it clean, wait until nothing is prepared
 * anywhere, check.
 */
class CrashPointsIT {
    @TempDir
    Path dir;

    /** Fault point, which hit of it to halt at (counting from the restart), and whose it is. */
    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        String[][] points = {
                {"follower.before-prepare", "1"},
                {"follower.after-prepare-fsync", "1"},
                {"follower.after-commit-fsync", "1"},
                {"follower.torn-write", "1"},
                {"leader.after-decision-fsync", "1"},
                {"leader.after-phase2-ack", "1"},
                {"leader.before-client-reply", "1"},
                {"leader.torn-write", "2"}, // the first write after a restart is the new epoch
        };
        String only = System.getProperty("kvstore.crash.only", ""); // run one point: -Dkvstore.crash.only=NAME
        for (String[] p : points) {
            if (!only.isEmpty() && !p[0].equals(only)) continue;
            for (String op : new String[] {"PUT", "DELETE"}) out.add(Arguments.of(p[0], p[1], op));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} during {2}")
    @MethodSource("cases")
    void crashAtAStepLosesNothingAcknowledged(String point, String hit, String op) throws Exception {
        boolean leaderVictim = point.startsWith("leader.");
        try (JarCluster c = new JarCluster(dir, 2, 2).start()) {
            for (int i = 0; i < 5; i++) assertEquals(201, Http.put(c.leader("/?key=base" + i + "&val=b" + i)).status());
            assertEquals(201, Http.put(c.leader("/?key=target&val=old")).status());
            c.awaitQuiet(Duration.ofSeconds(30));

            // Restart the victim with the fault armed.
            JarNode victim = leaderVictim ? c.leaderNode() : c.followerNode(0);
            assertEquals(0, victim.term(Duration.ofSeconds(30)));
            Map<String, String> fault = Map.of("KVSTORE_FAULT", point + ":" + hit);
            victim = leaderVictim ? c.startLeader(fault) : c.startFollower(0, fault);
            c.awaitReady();
            c.awaitFollowerUp(0);
            c.awaitFollowerUp(1);

            Http.Response r = op.equals("PUT") ? Http.put(c.leader("/?key=target&val=new")) : Http.delete(c.leader("/?key=target"));
            int code = victim.waitFor(Duration.ofSeconds(60));
            assertEquals(137, code, "the victim halted at " + point + "\n" + victim.stdout());
            assertTrue(victim.stdout().contains("fault point " + point), victim.stdout());

            // Restart it clean and let recovery finish.
            if (leaderVictim) c.startLeader(Map.of());
            else c.startFollower(0, Map.of());
            c.awaitReady();
            c.awaitQuiet(Duration.ofSeconds(60));

            for (int i = 0; i < 5; i++) {
                Map<Integer, String> v = c.valuesOnFollowers("base" + i);
                assertEquals("b" + i, v.get(0), "base" + i + " on follower 0");
                assertEquals("b" + i, v.get(1), "base" + i + " on follower 1");
            }
            Map<Integer, String> t = c.valuesOnFollowers("target");
            assertEquals(t.get(0), t.get(1), "the replicas agree on target");
            String after = op.equals("PUT") ? "new" : null;
            if (r.status() == 201) assertEquals(after, t.get(0), "an acknowledged " + op + " is on every replica");
            else if (r.status() == 500) assertEquals("old", t.get(0), "a refused " + op + " left no trace");
            else assertTrue(t.get(0) == null ? after == null : t.get(0).equals("old") || t.get(0).equals(after),
                    "an unanswered " + op + " happened everywhere or nowhere: " + t);
            String viaLeader = Http.get(c.leader("/?key=target")).body();
            assertEquals(t.get(0) == null ? "error: no key" : t.get(0), viaLeader);
            assertEquals(201, Http.put(c.leader("/?key=target&val=later")).status(), "and the cluster takes writes again");
            System.out.println(point + " during " + op + ": client saw " + r.status() + ", store has " + t.get(0));
        }
    }
}
