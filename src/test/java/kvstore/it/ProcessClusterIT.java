package kvstore.it;

import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.JarNode;
import kvstore.testing.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fat jar as separate processes, as a lab would run it: a leader and two followers with
 * the seed's positional arguments, kill -9 of a follower, restart, and a clean SIGTERM.
 */
class ProcessClusterIT {
    @TempDir
    Path dir;

    @Test
    void leaderAndFollowersAsProcessesSurviveKillNine() throws Exception {
        int lp = Ports.free(), f1 = Ports.free(), f2 = Ports.free();
        String leader = "http://127.0.0.1:" + lp;
        try (JarNode l = JarNode.start(dir, Map.of(), "leader", String.valueOf(lp), "2", "2");
             JarNode a = JarNode.start(dir, Map.of(), "follower", String.valueOf(f1), String.valueOf(lp))) {
            JarNode b = JarNode.start(dir, Map.of(), "follower", String.valueOf(f2), String.valueOf(lp));
            l.awaitOutput("kvstore leader listening on http://127.0.0.1:" + lp, Duration.ofSeconds(30));
            a.awaitOutput("kvstore follower listening on http://127.0.0.1:" + f1, Duration.ofSeconds(30));
            Await.until("leader ready", Duration.ofSeconds(30), () -> Http.get(leader + "/api/health").status() == 200);
            for (int i = 0; i < 20; i++) assertEquals(201, Http.put(leader + "/?key=k" + i + "&val=v" + i).status());

            b.kill9();
            Http.Response w = Http.put(leader + "/?key=k0&val=changed");
            assertEquals(500, w.status(), "with redundancy 2 every key is on the dead follower");
            assertEquals(Errors.UNABLE, w.body());
            assertEquals("v0", Http.get(leader + "/?key=k0").body(), "reads go to the live replica");

            try (JarNode b2 = JarNode.start(dir, Map.of(), "follower", String.valueOf(f2), String.valueOf(lp))) {
                Await.until("writes work again", Duration.ofSeconds(20), () -> Http.put(leader + "/?key=k0&val=v0b").status() == 201);
                for (int i = 1; i < 20; i++) assertEquals("v" + i, Http.get(leader + "/?key=k" + i).body());
                assertEquals("v0b", Http.get(leader + "/?key=k0").body());
                assertEquals(0, b2.term(Duration.ofSeconds(30)));
            }
            assertEquals(0, l.term(Duration.ofSeconds(30)), "SIGTERM: clean stop, exit 0");
            assertTrue(l.stdout().contains("stopping"));
        }
    }

    @Test
    void theEmbeddedDefaultRunsFourNodesAndItsConsole() throws Exception {
        int base = Ports.freeRange(4);
        try (JarNode e = JarNode.start(dir, Map.of(), "--port", String.valueOf(base))) {
            e.awaitOutput("listening on http://127.0.0.1:", 4, Duration.ofSeconds(60));
            e.awaitOutput("console:", Duration.ofSeconds(30));
            String leader = "http://127.0.0.1:" + base;
            Await.until("leader ready", Duration.ofSeconds(30), () -> Http.get(leader + "/api/health").status() == 200);
            assertEquals(201, Http.put(leader + "/?key=hello&val=world").status());
            assertEquals("world", Http.get(leader + "/?key=hello").body());
            assertTrue(dir.resolve("data/leader-" + base).toFile().isDirectory());
            assertTrue(dir.resolve("data/follower-" + (base + 1)).toFile().isDirectory());

            e.stdin("k " + (base + 1));
            e.awaitOutput("killed follower " + (base + 1), Duration.ofSeconds(30));
            e.stdin("l");
            e.awaitOutput("killed", 2, Duration.ofSeconds(30));
            e.stdin("r " + (base + 1));
            e.awaitOutput("restarted follower " + (base + 1), Duration.ofSeconds(30));
            e.stdin("q");
            assertEquals(0, e.waitFor(Duration.ofSeconds(30)));
        }
    }
}
