package kvstore.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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
 * The launcher console of the embedded default (SPEC.md section 1; the seed's tpcsystem): the
 * banner names the commands, {@code l} lists followers with their state, {@code k PORT} kills
 * one (the leader then sees it down and refuses writes to its keys), {@code r PORT} restarts it
 * (writes work again), mistakes get an answer, and {@code q} quits with exit 0. Method: the real
 * jar as a process, commands on its stdin, answers read from its stdout.
 */
class ConsoleIT {
    @TempDir
    Path dir;

    @Test
    void killListRestartAndQuit() throws Exception {
        int base = Ports.freeRange(4);
        String leader = "http://127.0.0.1:" + base;
        int victim = base + 2;
        try (JarNode e = JarNode.start(dir, Map.of(), "--port", String.valueOf(base))) {
            e.awaitOutput("console: k PORT = kill a follower, r PORT = restart it, l = list followers, q = quit", Duration.ofSeconds(60));
            Await.until("leader ready", Duration.ofSeconds(30), () -> Http.get(leader + "/api/health").status() == 200);
            String key = keyHeldBy(leader, victim);
            assertEquals(201, Http.put(leader + "/?key=" + key + "&val=before").status());

            String all = list(e);
            for (int p = base + 1; p <= base + 3; p++) {
                String line = lineFor(all, p);
                assertTrue(line.contains("running") && line.contains("leader sees it up"), line);
            }

            e.stdin("k " + victim);
            e.awaitOutput("killed follower " + victim, Duration.ofSeconds(30));
            Await.until("the leader sees " + victim + " down", Duration.ofSeconds(20), () -> !followerUp(leader, victim));
            String line = lineFor(list(e), victim);
            assertTrue(line.contains("killed") && line.contains("leader sees it down"), line);
            Http.Response refused = Http.put(leader + "/?key=" + key + "&val=while-down");
            assertEquals(500, refused.status(), "a write needs every replica");
            assertEquals(Errors.UNABLE, refused.body());
            assertEquals("before", Http.get(leader + "/?key=" + key).body(), "reads go to the other replica");

            e.stdin("k " + victim);
            e.awaitOutput("follower " + victim + " is not running", Duration.ofSeconds(10));
            e.stdin("k 1");
            e.awaitOutput("no follower on port 1", Duration.ofSeconds(10));
            e.stdin("k");
            e.awaitOutput("usage: k PORT", Duration.ofSeconds(10));
            e.stdin("frobnicate");
            e.awaitOutput("unknown command 'frobnicate'", Duration.ofSeconds(10));

            e.stdin("r " + victim);
            e.awaitOutput("restarted follower " + victim, Duration.ofSeconds(60));
            Await.until("writes to its keys work again", Duration.ofSeconds(30),
                    () -> Http.put(leader + "/?key=" + key + "&val=after").status() == 201);
            assertEquals("after", Http.get("http://127.0.0.1:" + victim + "/?key=" + key).body(), "the restarted follower has it");
            e.stdin("r " + victim);
            e.awaitOutput("follower " + victim + " is already running", Duration.ofSeconds(10));

            e.stdin("q");
            assertEquals(0, e.waitFor(Duration.ofSeconds(30)), "q is a clean stop");
        }
    }

    /** Sends {@code l} and returns the three lines it printed. */
    private static String list(JarNode e) throws Exception {
        int before = count(e.stdout(), "leader sees it");
        e.stdin("l");
        Await.until("three more list lines", Duration.ofSeconds(10), () -> count(e.stdout(), "leader sees it") >= before + 3);
        String out = e.stdout();
        int from = out.length();
        for (int i = 0; i < 3; i++) from = out.lastIndexOf("\nfollower ", from - 1);
        return out.substring(from + 1);
    }

    private static String lineFor(String lines, int port) {
        for (String l : lines.split("\n")) if (l.startsWith("follower 127.0.0.1:" + port + " ")) return l;
        throw new AssertionError("no line for " + port + " in:\n" + lines);
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }

    private static boolean followerUp(String leader, int port) {
        JsonArray fs = new JsonObject(Http.get(leader + "/api/status").body()).getJsonArray("followers");
        for (int i = 0; i < fs.size(); i++) if (fs.getJsonObject(i).getInteger("port") == port) return fs.getJsonObject(i).getBoolean("up");
        throw new AssertionError("the leader does not know " + port);
    }

    /** A key whose replicas include the follower on {@code port}. */
    private static String keyHeldBy(String leader, int port) {
        for (int i = 0; i < 1000; i++) {
            JsonArray rs = new JsonObject(Http.get(leader + "/api/placement?key=console-" + i).body()).getJsonArray("replicas");
            for (int j = 0; j < rs.size(); j++) if (rs.getJsonObject(j).getInteger("port") == port) return "console-" + i;
        }
        throw new AssertionError("no key on " + port);
    }
}
