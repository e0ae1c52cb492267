package kvstore.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.JarNode;
import kvstore.testing.Ports;
import kvstore.testing.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 5, "under any malformed input a node answers with the documented error or
 * closes that connection, and keeps serving everyone else", against the real fat jar: a leader
 * and two followers as separate processes, attacked over raw sockets.
 *
 * <p>Method: write known keys first (one at the key and value limits, fully percent-encoded).
 * After every attack ({@link #stillServing}): no process has exited, a normal PUT and GET
 * through the leader and a GET on each follower answer within 2 seconds, every known key reads
 * back unchanged, and the cluster holds no key it should not (so nothing an attack sent was
 * stored, under its own name or a mangled one).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputIT {
    @TempDir
    static Path dir;

    private final List<JarNode> nodes = new ArrayList<>();
    private int leaderPort;
    private final List<Integer> followerPorts = new ArrayList<>();
    private final Map<String, String> known = new LinkedHashMap<>();
    private int probes;

    private String leader(String pathAndQuery) {
        return "http://127.0.0.1:" + leaderPort + pathAndQuery;
    }

    private List<Integer> allPorts() {
        List<Integer> all = new ArrayList<>(List.of(leaderPort));
        all.addAll(followerPorts);
        return all;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Every byte as %XX: what "fully percent-encoded" means. */
    private static String escapeAll(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append('%').append(String.format("%02X", x & 0xFF));
        return b.toString();
    }

    @BeforeAll
    void startClusterAndWriteKnownKeys() throws Exception {
        leaderPort = Ports.free();
        followerPorts.add(Ports.free());
        followerPorts.add(Ports.free());
        nodes.add(JarNode.start(dir, Map.of(), "leader", String.valueOf(leaderPort), "2", "2"));
        for (int p : followerPorts) nodes.add(JarNode.start(dir, Map.of(), "follower", String.valueOf(p), String.valueOf(leaderPort)));
        Await.until("leader ready", Duration.ofSeconds(60), () -> Http.get(leader("/api/health")).status() == 200);

        known.put("alpha", "1");
        known.put("ünïcödé key", "välue € 😀");
        known.put("a+b&c=d%", "x=y&z");
        for (Map.Entry<String, String> e : known.entrySet()) {
            Http.Response r = Http.put(leader("/?key=" + Http.enc(e.getKey()) + "&val=" + Http.enc(e.getValue())));
            assertEquals(201, r.status(), e.getKey() + ": " + r.body() + "\nleader:\n" + nodes.get(0).stdout());
        }
        // A key and a value at their limits (1024 UTF-8 bytes each), every byte percent-encoded:
        // a request line of about 6 KB that the line limit must let through (SPEC.md section 2).
        String bigKey = "é".repeat(512);
        String bigValue = "€".repeat(341) + "v";
        RawHttp.Response put = RawHttp.request(leaderPort, "PUT", "/?key=" + escapeAll(bigKey) + "&val=" + escapeAll(bigValue));
        assertEquals(201, put.status(), put.raw());
        known.put(bigKey, bigValue);
        RawHttp.Response over = RawHttp.request(leaderPort, "PUT", "/?key=" + escapeAll(bigKey + "é") + "&val=v");
        assertEquals(Errors.IMPROPER_KEY_LENGTH, over.body(), "one byte over the key limit is our error, not the line limit's");
        stillServing("setup");
    }

    @AfterAll
    void stopCluster() {
        for (JarNode n : nodes) n.close();
    }

    @AfterEach
    void afterEachAttack(TestInfo info) {
        stillServing(info.getDisplayName());
    }

    /** The checks after every attack (see the class comment). */
    private void stillServing(String after) {
        for (JarNode n : nodes) {
            assertTrue(n.alive(), after + ": " + n.args + " exited\n" + n.stdout() + n.stderr());
            String out = n.stdout() + n.stderr();
            assertFalse(out.contains("Exception") || out.contains("\tat "), after + ": a trace in the log of " + n.args + "\n" + out);
        }
        long t0 = System.nanoTime();
        String probe = "probe-" + (probes++);
        Http.Response put = Http.put(leader("/?key=" + probe + "&val=ok"));
        Http.Response get = Http.get(leader("/?key=" + probe));
        for (int p : followerPorts) assertEquals(200, Http.get("http://127.0.0.1:" + p + "/api/health").status(), after);
        long millis = (System.nanoTime() - t0) / 1_000_000L;
        assertEquals(201, put.status(), after + ": " + put.body());
        assertEquals("ok", get.body(), after);
        assertTrue(millis < 2_000, after + ": normal requests took " + millis + " ms");
        known.put(probe, "ok");
        for (Map.Entry<String, String> e : known.entrySet()) {
            Http.Response r = Http.get(leader("/?key=" + Http.enc(e.getKey())));
            assertEquals(200, r.status(), after + ": " + e.getKey());
            assertEquals(e.getValue(), r.body(), after + ": " + e.getKey());
        }
        JsonObject page = new JsonObject(Http.get(leader("/api/keys?limit=1000")).body());
        TreeSet<String> stored = new TreeSet<>();
        for (Object k : page.getJsonArray("keys", new JsonArray())) stored.add((String) k);
        assertEquals(new TreeSet<>(known.keySet()), stored, after + ": the cluster holds exactly the known keys");
    }

    /* --- The attacks --- */

    @Test
    void garbageBytes() {
        Random rnd = new Random(20261127);
        List<byte[]> attacks = new ArrayList<>(List.of(
                new byte[] {0, 0, 0, 0, '\r', '\n', '\r', '\n'},
                ascii("\r\n\r\n\r\n"),
                ascii("GET\r\n\r\n"),
                ascii("GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n"),
                ascii("G\u00c9T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
                ascii("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Without Colon\r\n\r\n"),
                ascii("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n"),
                ascii("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n"),
                ascii("PUT /?key=a&val=b HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
                new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03})); // a TLS ClientHello
        for (int i = 0; i < 20; i++) {
            byte[] junk = new byte[1 + rnd.nextInt(3000)];
            rnd.nextBytes(junk);
            attacks.add(concat(junk, ascii("\r\n\r\n"))); // ends like a head, so the decoder must decide now
        }
        for (int port : allPorts()) {
            for (byte[] a : attacks) {
                // An answer, or a connection closed or still waiting for the rest of a head after
                // a second (the request-head timeout closes those; twoHundredSlowUnfinishedRequests).
                RawHttp.Response r = RawHttp.send(port, a, 1_000);
                // 501 with an empty body and a closed connection is Vert.x's own answer to an HTTP
                // version other than 1.0 and 1.1, given before any handler of ours runs.
                boolean ok = r.closedWithoutAnswer() || r.status() == 500 && r.body().equals(Errors.INVALID_REQUEST)
                        || r.status() == 413 || r.status() == 414 || r.status() == 431 || r.status() == 501 && r.body().isEmpty();
                assertTrue(ok, "answer to garbage: " + r.raw());
                assertFalse(r.raw().contains("Exception") || r.raw().contains("\tat "), "no trace: " + r.raw());
            }
        }
    }

    @Test
    void aRequestLineOf100KB() {
        for (int port : allPorts()) {
            RawHttp.Response r = RawHttp.send(port, ascii("GET /?key=" + "a".repeat(100_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 5_000);
            assertTrue(r.closedWithoutAnswer() || r.status() == 414, r.raw());
            RawHttp.Response put = RawHttp.send(port, ascii("PUT /?key=big&val=" + "%41".repeat(30_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 5_000);
            assertTrue(put.closedWithoutAnswer() || put.status() == 414, put.raw());
        }
    }

    @Test
    void tenThousandHeaders() {
        StringBuilder many = new StringBuilder("GET /?key=alpha HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (int i = 0; i < 10_000; i++) many.append("X-H").append(i).append(": v\r\n");
        byte[] attack = ascii(many.append("\r\n").toString());
        StringBuilder oneHuge = new StringBuilder("GET /?key=alpha HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
        oneHuge.append("b".repeat(64 * 1024)).append("\r\n\r\n");
        for (int port : allPorts()) {
            RawHttp.Response r = RawHttp.send(port, attack, 5_000);
            assertTrue(r.closedWithoutAnswer() || r.status() == 431, r.raw());
            RawHttp.Response h = RawHttp.send(port, ascii(oneHuge.toString()), 5_000);
            assertTrue(h.closedWithoutAnswer() || h.status() == 431, h.raw());
        }
    }

    @Test
    void aTwentyMegabyteBody() {
        byte[] body = new byte[20 * 1024 * 1024];
        for (int port : allPorts()) {
            byte[] head = ascii("PUT /?key=alpha&val=overwritten HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + body.length + "\r\n\r\n");
            RawHttp.Response r = RawHttp.send(port, concat(head, body), 5_000);
            assertTrue(r.closedWithoutAnswer() || r.status() == 413, r.raw());

            // The same 20 MB chunked, in 64 KB chunks: refused once past the limit, never run.
            ByteArrayOutputStream chunked = new ByteArrayOutputStream();
            chunked.writeBytes(ascii("PUT /?key=alpha&val=overwritten HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
            byte[] chunk = new byte[64 * 1024];
            for (int i = 0; i < 320; i++) {
                chunked.writeBytes(ascii(Integer.toHexString(chunk.length) + "\r\n"));
                chunked.writeBytes(chunk);
                chunked.writeBytes(ascii("\r\n"));
            }
            RawHttp.Response c = RawHttp.send(port, chunked.toByteArray(), 5_000);
            assertTrue(c.closedWithoutAnswer() || c.status() == 413, c.raw());
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void twoHundredSlowUnfinishedRequests() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                int port = i < 100 ? leaderPort : followerPorts.get(i % 2);
                Socket s = new Socket("127.0.0.1", port);
                s.getOutputStream().write(ascii("PUT /?key=slow" + i + "&val=x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
                s.getOutputStream().flush();
                slow.add(s);
            }
            stillServing("200 slow requests open");
            // Half of them go on dripping a byte at a time (which resets any idle timeout); the
            // server still closes every one: a whole request head is due within 10 s.
            boolean[] closed = new boolean[slow.size()];
            int open = slow.size();
            long deadline = System.nanoTime() + Duration.ofSeconds(25).toNanos();
            byte[] buf = new byte[256];
            while (open > 0 && System.nanoTime() < deadline) {
                for (int i = 0; i < slow.size(); i++) {
                    if (closed[i]) continue;
                    Socket s = slow.get(i);
                    try {
                        if (i % 2 == 0) {
                            s.getOutputStream().write('x');
                            s.getOutputStream().flush();
                        }
                        s.setSoTimeout(1);
                        if (s.getInputStream().read(buf) < 0) closed[i] = true;
                    } catch (SocketTimeoutException stillOpen) {
                        // not yet
                    } catch (IOException e) {
                        closed[i] = true;
                    }
                    if (closed[i]) open--;
                }
            }
            assertEquals(0, open, "slow connections the server never closed");
        } finally {
            for (Socket s : slow) s.close();
        }
    }

    @Test
    void invalidUtf8AndNulInKeysAndEveryOtherInputPath() {
        String[] badQueries = {"key=%FF", "key=%C0%AF", "key=%ED%A0%80", "key=a%00b", "key=%zz", "key=%4", "key=a%", "key=%F0%9F%98"};
        for (int port : allPorts()) {
            for (String q : badQueries) {
                for (String method : new String[] {"GET", "PUT", "DELETE"}) {
                    String query = method.equals("PUT") ? q + "&val=v" : q;
                    RawHttp.Response r = RawHttp.request(port, method, "/?" + query);
                    assertEquals(500, r.status(), method + " " + query + " on " + port + ": " + r.raw());
                    assertEquals(Errors.INVALID_REQUEST, r.body(), method + " " + query);
                }
                RawHttp.Response v = RawHttp.request(port, "PUT", "/?key=alpha&val=" + q.substring(4));
                assertEquals(Errors.INVALID_REQUEST, v.body(), "a bad value: " + q);
            }
            // Raw bytes, not escapes: invalid UTF-8 and a NUL straight on the wire.
            for (byte[] raw : new byte[][] {{(byte) 0xFF, (byte) 0xFE}, {'a', 0, 'b'}, {(byte) 0xC3}}) {
                byte[] req = concat(concat(ascii("GET /?key="), raw), ascii(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
                RawHttp.Response r = RawHttp.send(port, req, 3_000);
                assertTrue(r.closedWithoutAnswer() || r.status() == 500 && r.body().equals(Errors.INVALID_REQUEST), r.raw());
            }
            // A bad escape in the path is our invalid request, not a 400 from elsewhere.
            for (String target : new String[] {"/%zz", "/%zz?key=alpha", "/%", "/%00", "/api/%zz", "/register%zz"}) {
                RawHttp.Response r = RawHttp.request(port, "GET", target);
                assertEquals(500, r.status(), target + ": " + r.raw());
                assertEquals(Errors.INVALID_REQUEST, r.body(), target);
            }
            // Repeated and missing parameters.
            for (String[] mq : new String[][] {{"GET", "/?key=alpha&key=alpha"}, {"PUT", "/?key=alpha&val=1&val=2"}, {"PUT", "/?key=alpha"},
                    {"PUT", "/?val=1"}, {"DELETE", "/?val=1"}, {"PUT", "/?key=alpha&val="}, {"GET", "/api/keys?limit=1&limit=2"},
                    {"GET", "/api/keys?prefix=%FF"}, {"GET", "/api/keys?limit=abc"}}) {
                RawHttp.Response r = RawHttp.request(port, mq[0], mq[1]);
                assertEquals(Errors.INVALID_REQUEST, r.body(), mq[0] + " " + mq[1] + " on " + port);
            }
        }
        // The leader's registration and the followers' participant endpoints.
        for (String q : new String[] {"/register?key=%FF&val=1", "/register?key=127.0.0.1&val=%00", "/register?key=a&key=b&val=1",
                "/register?val=1", "/register?key=127.0.0.1", "/register?key=evil%0Ahost&val=1", "/register?key=127.0.0.1&val=99999"}) {
            RawHttp.Response r = RawHttp.request(leaderPort, "POST", q);
            assertEquals(Errors.INVALID_REQUEST, r.body(), q);
        }
        for (int port : followerPorts) {
            for (String[] mq : new String[][] {{"POST", "/commit?tx=%zz&epoch=1"}, {"POST", "/commit?tx=1.1&tx=1.2&epoch=1"},
                    {"POST", "/abort?tx=1.1"}, {"POST", "/abort?epoch=1"}, {"POST", "/commit?tx=1.1&epoch=%00"},
                    {"GET", "/tpc/check"}, {"GET", "/tpc/check?epoch=%FF"}, {"GET", "/tpc/check?epoch=1&epoch=2"},
                    {"PUT", "/?key=alpha&val=v&tx=1.1"}, {"PUT", "/?key=alpha&val=v&tx=1.1&epoch=1&epoch=1"},
                    {"GET", "/?key=alpha&tx=1.1&epoch=1"}, {"GET", "/commit"}}) {
                RawHttp.Response r = RawHttp.request(port, mq[0], mq[1]);
                assertEquals(500, r.status(), mq[0] + " " + mq[1]);
                assertEquals(Errors.INVALID_REQUEST, r.body(), mq[0] + " " + mq[1]);
            }
        }
    }

    @Test
    void http10WithoutHostIsServedHttp11WithoutHostIsInvalid() {
        for (int port : allPorts()) {
            RawHttp.Response r10 = RawHttp.send(port, ascii("GET /?key=alpha HTTP/1.0\r\n\r\n"), 5_000);
            assertEquals(200, r10.status(), r10.raw());
            assertEquals("1", r10.body());
            RawHttp.Response r11 = RawHttp.send(port, ascii("GET /?key=alpha HTTP/1.1\r\nConnection: close\r\n\r\n"), 5_000);
            assertEquals(500, r11.status(), r11.raw());
            assertEquals(Errors.INVALID_REQUEST, r11.body());
        }
    }

    @Test
    void aHundredPipelinedRequestsOnOneConnection() throws Exception {
        for (int port : allPorts()) {
            StringBuilder gets = new StringBuilder();
            for (int i = 0; i < 100; i++) {
                gets.append("GET /?key=alpha HTTP/1.1\r\nHost: 127.0.0.1\r\n").append(i == 99 ? "Connection: close\r\n" : "").append("\r\n");
            }
            String all = RawHttp.send(port, ascii(gets.toString()), 10_000).raw();
            assertEquals(100, count(all, "HTTP/1.1 200 OK"), "100 answers in order on " + port);
            assertEquals(100, count(all, "\r\n\r\n1"), "each with the value");
        }
        // Pipelined writes are applied in order: the last one wins.
        StringBuilder puts = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            puts.append("PUT /?key=pipelined&val=").append(i).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    .append(i == 99 ? "Connection: close\r\n" : "").append("\r\n");
        }
        String all = RawHttp.send(leaderPort, ascii(puts.toString()), 20_000).raw();
        assertEquals(100, count(all, "HTTP/1.1 201 Created"), all.length() > 2000 ? all.substring(0, 2000) : all);
        known.put("pipelined", "99");
    }

    @Test
    void http2IsNotSpoken() {
        for (int port : allPorts()) {
            RawHttp.Response prior = RawHttp.send(port, ascii("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 3_000);
            assertTrue(prior.closedWithoutAnswer() || prior.status() == 501 && prior.body().isEmpty(), "HTTP/2 is an unknown version: " + prior.raw());
            RawHttp.Response upgrade = RawHttp.send(port, ascii("GET /?key=alpha HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Connection: Upgrade, HTTP2-Settings\r\nConnection: close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"), 3_000);
            assertEquals(200, upgrade.status(), "answered in HTTP/1.1, no 101: " + upgrade.raw());
        }
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }
}
