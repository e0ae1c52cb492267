package kvstore.system;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import kvstore.core.Errors;
import kvstore.testing.Http;
import kvstore.testing.LocalCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static kvstore.testing.Http.enc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 2, row by row, against a real leader and three real followers (redundancy 2)
 * in this JVM: real sockets, real files, real fsync. Placement (section 4) is checked on the
 * followers themselves.
 */
@ExtendWith(VertxExtension.class)
@Timeout(180)
class ClientApiTest {
    static LocalCluster cluster;

    @BeforeAll
    @Timeout(120)
    static void start(Vertx vertx) throws Exception {
        cluster = new LocalCluster(vertx, 3, 2).start();
    }

    @AfterAll
    static void stop() throws Exception {
        cluster.close();
    }

    static String url(String q) {
        return cluster.leader(q);
    }

    @Test
    void putGetDelete() {
        Http.Response put = Http.put(url("/?key=greeting&val=" + enc("hello world")));
        assertEquals(201, put.status());
        assertEquals("hello world", put.body(), "a PUT's 201 carries the value, as the seed's does");
        Http.Response get = Http.get(url("/?key=greeting"));
        assertEquals(200, get.status());
        assertEquals("hello world", get.body());
        assertEquals("text/plain; charset=utf-8", get.header("content-type"));
        assertEquals(201, Http.put(url("/?key=greeting&val=again")).status());
        assertEquals("again", Http.get(url("/?key=greeting")).body());
        Http.Response deleted = Http.delete(url("/?key=greeting"));
        assertEquals(201, deleted.status());
        assertEquals("greeting", deleted.body(), "a DELETE's 201 carries the key, as the seed's does");
        Http.Response gone = Http.get(url("/?key=greeting"));
        assertEquals(500, gone.status());
        assertEquals(Errors.NO_KEY, gone.body());
        Http.Response del = Http.delete(url("/?key=greeting"));
        assertEquals(500, del.status());
        assertEquals(Errors.NO_KEY, del.body());
    }

    @Test
    void keysAndValuesSurviveEncoding() {
        String key = "k ü+&=%/?#€😀";
        String val = "v ä+&=%\"'<b>";
        assertEquals(201, Http.put(url("/?key=" + enc(key) + "&val=" + enc(val))).status());
        assertEquals(val, Http.get(url("/?key=" + enc(key))).body());
        assertEquals(val, Http.get(url("/?key=" + enc(key).replace("%20", "+"))).body(), "+ is a space");
    }

    @Test
    void errorBodies() {
        assertEquals(Errors.INVALID_REQUEST, Http.put(url("/?key=a")).body());
        assertEquals(Errors.INVALID_REQUEST, Http.put(url("/?key=a&val=")).body());
        assertEquals(Errors.INVALID_REQUEST, Http.delete(url("/")).body());
        assertEquals(Errors.INVALID_REQUEST, Http.get(url("/?key=a&key=b")).body());
        assertEquals(Errors.INVALID_REQUEST, raw("GET", "/?key=%zz").body());
        assertEquals(Errors.INVALID_REQUEST, raw("GET", "/?key=%4").body());
        assertEquals(Errors.INVALID_REQUEST, raw("PUT", "/?key=a&val=%zz").body());
        assertEquals(Errors.INVALID_REQUEST, Http.get(url("/?key=%C3%28")).body());
        assertEquals(Errors.INVALID_REQUEST, Http.get(url("/?key=a%00")).body());
        assertEquals(500, raw("GET", "/?key=%zz").status());
        assertEquals(Errors.INVALID_REQUEST, Http.get(url("/nowhere")).body());
        assertEquals(Errors.INVALID_REQUEST, Http.send("PATCH", url("/?key=a")).body());
        assertEquals(Errors.INVALID_REQUEST, Http.post(url("/?key=a&val=b")).body());
        assertEquals(Errors.IMPROPER_KEY_LENGTH, Http.get(url("/?key=")).body());
        assertEquals(Errors.IMPROPER_KEY_LENGTH, Http.put(url("/?key=" + "k".repeat(1025) + "&val=v")).body());
        assertEquals(Errors.VALUE_TOO_LONG, Http.put(url("/?key=k&val=" + "v".repeat(1025))).body());
        assertEquals(500, Http.put(url("/?key=k&val=" + "v".repeat(1025))).status());
        // At the limits, fully percent-encoded (about 7 KB of request line), it must be accepted.
        String key = "é".repeat(512), val = "€".repeat(341) + "x";
        assertEquals(201, Http.put(url("/?key=" + enc(key) + "&val=" + enc(val))).status());
        assertEquals(val, Http.get(url("/?key=" + enc(key))).body());
    }

    static kvstore.testing.RawHttp.Response raw(String method, String target) {
        return kvstore.testing.RawHttp.request(cluster.leaderPort, method, target);
    }

    @Test
    void registration() {
        assertEquals(201, Http.post(url("/register?key=127.0.0.1&val=" + cluster.followerPorts.get(0))).status(),
                "registering the same follower again is a success");
        Http.Response full = Http.post(url("/register?key=127.0.0.1&val=1"));
        assertEquals(500, full.status());
        assertEquals(Errors.CAPACITY_FULL, full.body());
        assertEquals(Errors.INVALID_REQUEST, Http.post(url("/register?key=127.0.0.1&val=notaport")).body());
        assertEquals(Errors.INVALID_REQUEST, Http.get(url("/register?key=127.0.0.1&val=1")).body());
    }

    @Test
    void webClientPageAndStatic() {
        Http.Response page = Http.get(url("/"));
        assertEquals(200, page.status());
        assertTrue(page.header("content-type").startsWith("text/html"));
        assertTrue(page.body().contains("<script"));
        assertEquals(200, Http.get(url("/app.js")).status());
    }

    @Test
    void healthStatusAndPlacement() {
        assertEquals("ok", Http.get(url("/api/health")).body());
        JsonObject s = cluster.status();
        assertEquals("leader", s.getString("role"));
        assertTrue(s.getBoolean("ready"));
        assertFalse(s.getBoolean("standby"));
        assertEquals(3, s.getInteger("capacity"));
        assertEquals(2, s.getInteger("redundancy"));
        assertEquals(1, s.getInteger("vnodes"));
        assertTrue(s.getLong("epoch") >= 1);
        JsonArray fs = s.getJsonArray("followers");
        assertEquals(3, fs.size());
        for (int i = 0; i < 3; i++) {
            JsonObject f = fs.getJsonObject(i);
            assertTrue(f.getBoolean("up"));
            assertNotNull(f.getString("id"));
            assertNotNull(f.getLong("lastSeen"));
            assertNotNull(f.getInteger("pendingPhase2"));
        }
        assertNotNull(s.getInteger("pendingTransactions"));
    }

    /** SPEC.md section 4: the leader's placement, and the data really is there and only there. */
    @Test
    void placementIsWhereTheDataIs() {
        for (int n = 0; n < 20; n++) {
            String key = "placed-" + n;
            assertEquals(201, Http.put(url("/?key=" + key + "&val=" + n)).status());
            JsonObject p = new JsonObject(Http.get(url("/api/placement?key=" + key)).body());
            assertEquals(Long.toUnsignedString(kvstore.core.Hash.strhash64(key)), p.getString("hash"));
            JsonArray replicas = p.getJsonArray("replicas");
            assertEquals(2, replicas.size());
            Set<Integer> holders = new HashSet<>();
            for (int r = 0; r < replicas.size(); r++) holders.add(replicas.getJsonObject(r).getInteger("port"));
            for (int i = 0; i < 3; i++) {
                int port = cluster.followerPorts.get(i);
                Http.Response direct = Http.get(cluster.follower(i, "/?key=" + key));
                if (holders.contains(port)) assertEquals(String.valueOf(n), direct.body(), key + " on its replica " + port);
                else assertEquals(Errors.NO_KEY, direct.body(), key + " must not be on " + port);
            }
        }
    }

    @Test
    void keyBrowserPagesAcrossTheCluster() {
        List<String> mine = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            String k = "browse/" + (char) ('a' + i);
            mine.add(k);
            assertEquals(201, Http.put(url("/?key=" + enc(k) + "&val=x")).status());
        }
        List<String> seen = new ArrayList<>();
        String after = null;
        int pages = 0;
        do {
            JsonObject page = new JsonObject(Http.get(url("/api/keys?prefix=" + enc("browse/") + "&limit=10"
                    + (after == null ? "" : "&after=" + enc(after)))).body());
            JsonArray ks = page.getJsonArray("keys");
            for (int i = 0; i < ks.size(); i++) seen.add(ks.getString(i));
            after = page.getString("next");
            pages++;
        } while (after != null && pages < 10);
        assertEquals(mine, seen, "every key once, in byte order, no duplicates from replicas");
        assertEquals(3, pages);
        assertNull(new JsonObject(Http.get(url("/api/keys?prefix=nothing-here")).body()).getString("next"));
        assertEquals(Errors.INVALID_REQUEST, Http.get(url("/api/keys?limit=abc")).body());
    }
}
