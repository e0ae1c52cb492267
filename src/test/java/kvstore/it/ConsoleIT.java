package kvstore.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.JarNode;
import kvstore.testing.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher console of the embedded default (SPEC.md sections 1 and 10; the seed's
 * tpcsystem): the banner names the commands, {@code l} lists followers with their state,
 * {@code k PORT} kills one (the leader then sees it down and refuses writes to its keys),
 * {@code r PORT} restarts it (writes work again), {@code a} adds a follower (capacity + 1) that
 * joins, {@code e PORT} evicts one, {@code d PORT} drains one and stops it once it is evicted,
 * mistakes get an answer, and {@code q} quits with exit 0. Method: the real jar as a process,
 * commands on its stdin, answers read from its stdout, each effect checked against the leader's
 * own API over plain HTTP.
 */
class ConsoleIT {
    static final String BANNER = "console: a = add a follower, d PORT = drain and remove it, e PORT = evict it,"
            + " k PORT = kill a follower, r PORT = restart it, l = list followers, q = quit";

    @TempDir
    Path dir;

    @Test
    @Timeout(300)
    void killListRestartAndQuit() throws Exception {
        int base = Ports.freeRange(4);
        String leader = "http://127.0.0.1:" + base;
        int victim = base + 2;
        try (JarNode e = JarNode.start(dir, Map.of(), "--port", String.valueOf(base))) {
            e.awaitOutput(BANNER, Duration.ofSeconds(60));
            Await.until("leader ready", Duration.ofSeconds(30), () -> Http.get(leader + "/api/health").status() == 200);
            String key = keyHeldBy(leader, victim);
            assertEquals(201, Http.put(leader + "/?key=" + key + "&val=before").status());

            String all = list(e, 3);
            for (int p = base + 1; p <= base + 3; p++) {
                String line = lineFor(all, p);
                assertTrue(line.contains("running") && line.contains("leader sees it up"), line);
            }
            long view = new JsonObject(Http.get(leader + "/api/status").body()).getLong("view");
            assertTrue(all.contains("\nview " + view + ", capacity 3, no key is moving"), all);

            e.stdin("k " + victim);
            e.awaitOutput("killed follower " + victim, Duration.ofSeconds(30));
            Await.until("the leader sees " + victim + " down", Duration.ofSeconds(20), () -> !followerUp(leader, victim));
            String line = lineFor(list(e, 3), victim);
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

    /**
     * SPEC.md section 10 through the console: {@code a} raises the capacity and starts a follower
     * on the next free port, which joins and serves; {@code e PORT} evicts a running follower
     * (out of the ring, still running); {@code d PORT} drains another, whose keys move before it
     * is evicted and stopped. Every key stays readable and writable throughout.
     */
    @Test
    @Timeout(300)
    void addEvictDrainAndList() throws Exception {
        int base = Ports.freeRange(6);
        String leader = "http://127.0.0.1:" + base;
        int added = base + 4;
        try (JarNode e = JarNode.start(dir, Map.of(), "--port", String.valueOf(base))) {
            e.awaitOutput(BANNER, Duration.ofSeconds(60));
            Await.until("leader ready", Duration.ofSeconds(30), () -> Http.get(leader + "/api/health").status() == 200);
            for (int i = 0; i < 40; i++) assertEquals(201, Http.put(leader + "/?key=member-" + i + "&val=v" + i).status());

            e.stdin("a");
            e.awaitOutput("added follower " + added + " (capacity 4)", Duration.ofSeconds(60));
            assertEquals(4, members(leader).getInteger("capacity"), "the capacity went up first");
            Await.until("follower " + added + " joined and up", Duration.ofSeconds(60), () -> "up".equals(state(leader, added)));
            Await.until("nothing moving", Duration.ofSeconds(60), () -> members(leader).getValue("rebalancing") == null);
            String line = lineFor(list(e, 4), added);
            assertTrue(line.contains("running") && line.contains("leader sees it up"), line);
            assertEquals(200, Http.get("http://127.0.0.1:" + added + "/api/health").status(), "it serves");
            assertEquals("up", new JsonObject(Http.get("http://127.0.0.1:" + added + "/api/status").body()).getString("state"));

            int evicted = base + 3;
            e.stdin("e " + evicted);
            e.awaitOutput("evicted follower " + evicted + " (view ", Duration.ofSeconds(30));
            Await.until("the leader lists " + evicted + " as evicted", Duration.ofSeconds(30), () -> evictedAt(leader, evicted));
            String all = list(e, 4);
            assertTrue(lineFor(all, evicted).contains("running") && lineFor(all, evicted).contains("leader sees it evicted"), all);
            assertEquals("evicted", new JsonObject(Http.get("http://127.0.0.1:" + evicted + "/api/status").body()).getString("state"),
                    "a live follower that is evicted says so");
            Await.until("nothing moving", Duration.ofSeconds(60), () -> members(leader).getValue("rebalancing") == null);

            int drained = base + 2;
            e.stdin("d " + drained);
            e.awaitOutput("draining follower " + drained + " (view ", Duration.ofSeconds(30));
            e.awaitOutput("drained follower " + drained + ": its keys moved, it was evicted", Duration.ofSeconds(120));
            assertTrue(evictedAt(leader, drained));
            Await.until("its server stopped", Duration.ofSeconds(30), () -> Http.get("http://127.0.0.1:" + drained + "/api/health").status() == -1);
            all = list(e, 4);
            assertTrue(lineFor(all, drained).contains("stopped") && lineFor(all, drained).contains("leader sees it evicted"), all);
            assertEquals(2, members(leader).getJsonArray("members").size());
            for (int i = 0; i < 40; i++) {
                assertEquals("v" + i, Http.get(leader + "/?key=member-" + i).body(), "member-" + i + " kept through the moves");
                assertEquals(201, Http.put(leader + "/?key=member-" + i + "&val=w" + i).status(), "member-" + i + " writable");
            }

            e.stdin("d " + (base + 1));
            e.awaitOutput("the leader answered POST /api/members/drain?follower=127.0.0.1:" + (base + 1) + " with 500 " + Errors.INVALID_REQUEST,
                    Duration.ofSeconds(30));
            e.stdin("e 1");
            e.awaitOutput("no follower on port 1", Duration.ofSeconds(10));
            e.stdin("d");
            e.awaitOutput("usage: d PORT", Duration.ofSeconds(10));
            e.stdin("a 7");
            e.awaitOutput("usage: a (no port", Duration.ofSeconds(10));
            e.stdin("q");
            assertEquals(0, e.waitFor(Duration.ofSeconds(30)), "q is a clean stop");
        }
    }

    /** Sends {@code l} and returns what it printed: {@code followers} lines and the view line. */
    private static String list(JarNode e, int followers) throws Exception {
        int before = count(e.stdout(), "\nview ");
        e.stdin("l");
        Await.until("a new list", Duration.ofSeconds(10), () -> count(e.stdout(), "\nview ") > before);
        String out = e.stdout();
        int end = out.lastIndexOf("\nview ");
        int from = end;
        for (int i = 0; i < followers; i++) from = out.lastIndexOf("\nfollower ", from - 1);
        return out.substring(from + 1, out.indexOf('\n', end + 1) < 0 ? out.length() : out.indexOf('\n', end + 1));
    }

    private static JsonObject members(String leader) {
        Http.Response r = Http.get(leader + "/api/members");
        assertEquals(200, r.status(), r.body());
        return new JsonObject(r.body());
    }

    /** The member's state in /api/members, or null when it is not a member. */
    private static String state(String leader, int port) {
        JsonArray ms = members(leader).getJsonArray("members");
        for (int i = 0; i < ms.size(); i++) if (ms.getJsonObject(i).getInteger("port") == port) return ms.getJsonObject(i).getString("state");
        return null;
    }

    private static boolean evictedAt(String leader, int port) {
        JsonArray ev = members(leader).getJsonArray("evicted");
        for (int i = 0; i < ev.size(); i++) if (ev.getJsonObject(i).getInteger("port") == port) return true;
        return false;
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
