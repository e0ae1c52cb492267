package kvstore.it;

import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.JarNode;
import kvstore.testing.Ports;
import kvstore.testing.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 6 against the real fat jar: a leader with a cluster secret and a client
 * token, one follower given the secret with {@code --secret} and one through
 * {@code KVSTORE_SECRET}.
 *
 * <p>Method: every internal endpoint is called without the header and with wrong ones, and the
 * follower's and the leader's state is compared before and after (nothing changed); the same
 * calls with the secret show the cluster works. Client requests need the token; the page,
 * static files and {@code /api/health} need nothing. Browsers: a foreign Origin and a foreign
 * Host are refused. Protected mode and the CLI run the jar to its exit. Last, the secret and the
 * token appear in no line any process printed and in no status page.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityIT {
    @TempDir
    static Path dir;

    private static final HexFormat HEX = HexFormat.of();
    private final String secret = "S3cret-" + HEX.formatHex(SecureRandom.getSeed(12));
    private final String token = "T0ken-" + HEX.formatHex(SecureRandom.getSeed(12));
    private final List<JarNode> nodes = new ArrayList<>();
    private final List<String> printed = new ArrayList<>(); // output of processes already gone
    private int leaderPort;
    private final List<Integer> followerPorts = new ArrayList<>();

    private String leader(String pathAndQuery) {
        return "http://127.0.0.1:" + leaderPort + pathAndQuery;
    }

    private String follower(int i, String pathAndQuery) {
        return "http://127.0.0.1:" + followerPorts.get(i) + pathAndQuery;
    }

    private String[] auth() {
        return new String[] {"Authorization", "Bearer " + token};
    }

    private String[] sec() {
        return new String[] {"X-KV-Secret", secret};
    }

    @BeforeAll
    void startClusterWithASecretAndAToken() throws Exception {
        leaderPort = Ports.free();
        followerPorts.add(Ports.free());
        followerPorts.add(Ports.free());
        String lp = String.valueOf(leaderPort);
        nodes.add(JarNode.start(dir, Map.of(), "leader", lp, "2", "2", "--secret", secret, "--client-token", token));
        nodes.add(JarNode.start(dir, Map.of(), "follower", String.valueOf(followerPorts.get(0)), lp, "--secret", secret));
        nodes.add(JarNode.start(dir, Map.of("KVSTORE_SECRET", secret), "follower", String.valueOf(followerPorts.get(1)), lp));
        Await.until("leader ready", Duration.ofSeconds(60), () -> Http.get(leader("/api/health")).status() == 200);
        assertEquals(201, Http.put(leader("/?key=alpha&val=1"), auth()).status());
        assertEquals(201, Http.put(leader("/?key=beta&val=2"), auth()).status());
    }

    @AfterAll
    void stop() {
        for (JarNode n : nodes) n.close();
    }

    /* --- Client token --- */

    @Test
    @Order(1)
    void clientRequestsNeedTheToken() {
        String[][] wrong = {{}, {"Authorization", "Bearer " + token + "x"}, {"Authorization", "Bearer " + token.substring(1)},
                {"Authorization", token}, {"Authorization", "bearer " + token}, {"Authorization", "Basic " + token},
                {"X-KV-Secret", secret}};
        for (String[] h : wrong) {
            for (Http.Response r : List.of(Http.get(leader("/?key=alpha"), h), Http.put(leader("/?key=alpha&val=no"), h),
                    Http.delete(leader("/?key=alpha"), h), Http.get(leader("/api/keys"), h),
                    Http.put(leader("/?key=%FF"), h), Http.get(leader("/?key="), h))) {
                assertEquals(401, r.status(), String.join(" ", h));
                assertEquals(Errors.UNAUTHORIZED, r.body(), "unauthorized comes before invalid request and key length");
            }
        }
        assertEquals("1", Http.get(leader("/?key=alpha"), auth()).body(), "nothing changed");
        assertEquals(201, Http.put(leader("/?key=gamma&val=3"), auth()).status());
        assertEquals("3", Http.get(leader("/?key=gamma"), auth()).body());
        assertEquals(201, Http.delete(leader("/?key=gamma"), auth()).status());
        assertEquals(Errors.NO_KEY, Http.get(leader("/?key=gamma"), auth()).body());
        assertEquals(200, Http.get(leader("/api/keys"), auth()).status());
        assertEquals(Errors.INVALID_REQUEST, Http.put(leader("/?key=%FF"), auth()).body());
        // Open to all: the page, its files and the health check.
        Http.Response page = Http.get(leader("/"));
        assertEquals(200, page.status());
        assertTrue(page.header("content-type").startsWith("text/html"), page.header("content-type"));
        assertEquals(200, Http.get(leader("/app.js")).status());
        assertEquals(200, Http.get(leader("/api/health")).status());
    }

    /* --- Cluster secret --- */

    @Test
    @Order(2)
    void internalEndpointsRefuseAMissingOrWrongSecretAndChangeNothing() {
        List<JsonObject> before = new ArrayList<>();
        for (int i = 0; i < 2; i++) before.add(followerStatus(i));
        JsonObject leaderBefore = new JsonObject(Http.get(leader("/api/status")).body());
        long epoch = before.get(0).getLong("epoch");
        long higher = epoch + 5;
        String[][] wrong = {{}, {"X-KV-Secret", ""}, {"X-KV-Secret", secret + "x"}, {"X-KV-Secret", secret.substring(0, secret.length() - 1)},
                {"X-KV-Secret", secret.toUpperCase()}, {"Authorization", "Bearer " + secret}, {"Authorization", "Bearer " + token}};
        for (String[] h : wrong) {
            for (int i = 0; i < 2; i++) {
                List<Http.Response> answers = List.of(
                        Http.put(follower(i, "/?key=evil&val=x&tx=" + higher + ".1&epoch=" + higher), h),
                        Http.delete(follower(i, "/?key=alpha&tx=" + higher + ".2&epoch=" + higher), h),
                        Http.put(follower(i, "/?key=evil&val=by-hand"), h),
                        Http.post(follower(i, "/commit?tx=" + higher + ".1&epoch=" + higher), h),
                        Http.post(follower(i, "/commit"), h),
                        Http.post(follower(i, "/abort?tx=" + epoch + ".1&epoch=" + higher), h),
                        Http.post(follower(i, "/abort"), h),
                        Http.get(follower(i, "/tpc/check?epoch=" + higher), h),
                        Http.get(follower(i, "/?key=alpha"), h),
                        Http.get(follower(i, "/?key=%FF"), h),
                        Http.get(follower(i, "/api/status"), h),
                        Http.get(follower(i, "/api/keys"), h),
                        Http.get(follower(i, "/no/such/path"), h));
                for (Http.Response r : answers) {
                    assertEquals(401, r.status(), String.join(" ", h) + ": " + r.body());
                    assertEquals(Errors.UNAUTHORIZED, r.body());
                }
            }
            for (String q : new String[] {"/register?key=127.0.0.1&val=" + followerPorts.get(0), "/register?key=10.9.9.9&val=1",
                    "/register?key=%FF&val=1"}) {
                Http.Response r = Http.post(leader(q), h);
                assertEquals(401, r.status(), "unauthorized comes before invalid request and capacity: " + q);
                assertEquals(Errors.UNAUTHORIZED, r.body());
            }
        }
        for (int i = 0; i < 2; i++) {
            JsonObject after = followerStatus(i);
            assertEquals(before.get(i).getLong("epoch"), after.getLong("epoch"), "no epoch was accepted");
            assertEquals(before.get(i).getLong("keys"), after.getLong("keys"));
            assertEquals(before.get(i).getJsonArray("pending"), after.getJsonArray("pending"), "nothing was prepared");
            assertNull(after.getValue("manual"), "the manual slot is empty");
        }
        JsonObject leaderAfter = new JsonObject(Http.get(leader("/api/status")).body());
        assertEquals(leaderBefore.getLong("epoch"), leaderAfter.getLong("epoch"));
        assertEquals(leaderBefore.getInteger("registered"), leaderAfter.getInteger("registered"));
        assertEquals(Errors.NO_KEY, Http.get(leader("/?key=evil"), auth()).body());
        assertEquals("1", Http.get(leader("/?key=alpha"), auth()).body());
        // Open to all on a follower: its page, static files and health check.
        for (int i = 0; i < 2; i++) {
            assertEquals(200, Http.get(follower(i, "/")).status());
            assertEquals(200, Http.get(follower(i, "/app.js")).status());
            assertEquals(200, Http.get(follower(i, "/api/health")).status());
        }
    }

    private JsonObject followerStatus(int i) {
        Http.Response r = Http.get(follower(i, "/api/status"), sec());
        assertEquals(200, r.status(), r.body());
        return new JsonObject(r.body());
    }

    @Test
    @Order(3)
    void withTheSecretTheClusterWorks() {
        // Every write is a prepare and a commit on both followers, and every read a GET on one:
        // they only succeed if the leader sends the secret.
        for (int i = 0; i < 10; i++) assertEquals(201, Http.put(leader("/?key=w" + i + "&val=" + i), auth()).status());
        for (int i = 0; i < 10; i++) assertEquals(String.valueOf(i), Http.get(leader("/?key=w" + i), auth()).body());
        assertEquals("1", Http.get(follower(0, "/?key=alpha"), sec()).body());
        assertEquals(200, Http.get(follower(1, "/api/keys"), sec()).status());
        // With the secret, registration reaches the capacity check.
        Http.Response full = Http.post(leader("/register?key=127.0.0.1&val=" + Ports.free()), sec());
        assertEquals(500, full.status());
        assertEquals(Errors.CAPACITY_FULL, full.body());
        // The manual slot by hand, with the secret (the seed's lesson still works).
        assertEquals(202, Http.put(follower(0, "/?key=hand&val=made"), sec()).status());
        assertEquals(204, Http.post(follower(0, "/abort"), sec()).status());
    }

    @Test
    @Order(4)
    void aFollowerWithTheWrongSecretIsRefused() throws Exception {
        int port = Ports.free();
        try (JarNode stranger = JarNode.start(dir, Map.of(), "follower", String.valueOf(port), String.valueOf(leaderPort),
                "--secret", "not-" + secret)) {
            stranger.awaitOutput("401 " + Errors.UNAUTHORIZED, Duration.ofSeconds(60));
            assertEquals(2, new JsonObject(Http.get(leader("/api/status")).body()).getInteger("registered"));
            printed.add(stranger.stdout() + stranger.stderr());
        }
    }

    @Test
    @Order(5)
    void unauthorizedComesBeforeCapacity() throws Exception {
        int port = Ports.free();
        String p = String.valueOf(port);
        try (JarNode lonely = JarNode.start(dir, Map.of(), "leader", p, "1", "--secret", secret, "--client-token", token,
                "--data-dir", dir.resolve("lonely").toString())) {
            lonely.awaitOutput("leader started", Duration.ofSeconds(60));
            String base = "http://127.0.0.1:" + port;
            assertEquals(Errors.UNAUTHORIZED, Http.put(base + "/?key=a&val=b").body());
            assertEquals(Errors.CAPACITY_NOT_FULL, Http.put(base + "/?key=a&val=b", auth()).body());
            assertEquals(201, Http.post(base + "/register?key=127.0.0.1&val=" + Ports.free(), sec()).status());
            Http.Response no = Http.post(base + "/register?key=127.0.0.1&val=" + Ports.free());
            assertEquals(401, no.status());
            assertEquals(Errors.UNAUTHORIZED, no.body());
            assertEquals(Errors.CAPACITY_FULL, Http.post(base + "/register?key=127.0.0.1&val=" + Ports.free(), sec()).body());
            printed.add(lonely.stdout() + lonely.stderr());
        }
    }

    /* --- Browsers --- */

    @Test
    @Order(6)
    void aForeignOriginOrHostIsRefusedAndTheNodesOwnPageIsNot() {
        String bearer = "Authorization: Bearer " + token + "\r\n";
        String self = "Origin: http://127.0.0.1:" + leaderPort + "\r\n";
        for (String origin : new String[] {"http://evil.example", "http://127.0.0.1:" + followerPorts.get(0), "null",
                "http://localhost:" + leaderPort, "https://127.0.0.1:" + leaderPort}) {
            for (String[] mq : new String[][] {{"PUT", "/?key=alpha&val=forged"}, {"DELETE", "/?key=alpha"},
                    {"POST", "/register?key=127.0.0.1&val=1"}}) {
                RawHttp.Response r = raw(leaderPort, mq[0], mq[1], "Host: 127.0.0.1:" + leaderPort + "\r\n" + bearer
                        + "X-KV-Secret: " + secret + "\r\nOrigin: " + origin + "\r\n");
                assertEquals(403, r.status(), origin + " " + mq[0]);
                assertEquals(Errors.UNAUTHORIZED, r.body());
            }
        }
        assertEquals("1", Http.get(leader("/?key=alpha"), auth()).body(), "nothing forged");
        RawHttp.Response own = raw(leaderPort, "PUT", "/?key=delta&val=4", "Host: 127.0.0.1:" + leaderPort + "\r\n" + bearer + self);
        assertEquals(201, own.status(), "the node's own page (same origin) works: " + own.raw());
        RawHttp.Response read = raw(leaderPort, "GET", "/?key=alpha", "Host: 127.0.0.1:" + leaderPort + "\r\n" + bearer
                + "Origin: http://evil.example\r\n");
        assertEquals(200, read.status(), "a cross-site GET is answered...");
        assertFalse(read.raw().toLowerCase().contains("access-control-allow-origin"), "...but never shared with the other site");
        // DNS rebinding: a name that is not the node's.
        for (int port : List.of(leaderPort, followerPorts.get(0))) {
            for (String host : new String[] {"evil.example", "evil.example:" + port, "127.0.0.1.evil.example:" + port, "localhost.evil:" + port}) {
                RawHttp.Response r = raw(port, "GET", "/", "Host: " + host + "\r\n");
                assertEquals(403, r.status(), host);
                assertEquals(Errors.UNAUTHORIZED, r.body());
            }
            for (String host : new String[] {"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port}) {
                assertEquals(200, raw(port, "GET", "/", "Host: " + host + "\r\n").status(), host);
            }
        }
    }

    private static RawHttp.Response raw(int port, String method, String target, String headers) {
        return RawHttp.send(port, (method + " " + target + " HTTP/1.1\r\n" + headers + "Connection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1), 10_000);
    }

    /* --- The command line --- */

    @Test
    @Order(7)
    void theClientTakesTheSecretAndTheTokenFromTheEnvironment() throws Exception {
        String where = "127.0.0.1:" + leaderPort;
        JarNode.Result ok = JarNode.run(dir, Map.of("KVSTORE_TOKEN", token, "KVSTORE_SECRET", secret), "get", "alpha", "--leader", where);
        assertEquals(0, ok.exitCode(), ok.stderr());
        assertEquals("1\n", ok.stdout());
        JarNode.Result no = JarNode.run(dir, Map.of(), "get", "alpha", "--leader", where);
        assertEquals(1, no.exitCode());
        assertTrue(no.stderr().contains(Errors.UNAUTHORIZED), no.stderr());
        printed.add(ok.stdout() + ok.stderr() + no.stdout() + no.stderr());
    }

    @Test
    @Order(8)
    void protectedModeRefusesOtherAddressesWithoutASecret() throws Exception {
        for (String host : new String[] {"192.0.2.10", "127.example.com", "10.0.0.1"}) {
            JarNode.Result r = JarNode.run(dir, Map.of(), "leader", "--host", host, "--port", String.valueOf(Ports.free()));
            assertEquals(2, r.exitCode(), host + ": " + r.stderr());
            assertTrue(r.stderr().startsWith("kvstore: refusing to listen on " + host), r.stderr());
            assertTrue(r.stderr().contains("--secret") && r.stderr().contains("--insecure"), "says how to fix it: " + r.stderr());
            assertFalse(r.stdout().contains("listening on"), "it never bound");
        }
        // With a secret (or --insecure) the refusal is lifted: the node then tries to bind, and
        // 192.0.2.10 (TEST-NET-1) is not an address of this machine, so the bind itself fails.
        for (String[] args : new String[][] {{"--secret", secret}, {"--insecure"}}) {
            List<String> all = new ArrayList<>(List.of("leader", "--host", "192.0.2.10", "--port", String.valueOf(Ports.free()),
                    "--data-dir", dir.resolve("never").toString()));
            all.addAll(List.of(args));
            JarNode.Result r = JarNode.run(dir, Map.of(), all.toArray(new String[0]));
            assertEquals(1, r.exitCode(), r.stderr());
            assertTrue(r.stderr().contains("cannot listen on 192.0.2.10"), r.stderr());
            printed.add(r.stdout() + r.stderr());
        }
        JarNode.Result bad = JarNode.run(dir, Map.of("KVSTORE_SECRET", "two words"), "leader");
        assertEquals(2, bad.exitCode(), "a secret that cannot travel in a header: " + bad.stderr());
        assertFalse(bad.stderr().contains("two words"), bad.stderr());
    }

    /* --- Last: nothing printed or shown the secret --- */

    @Test
    @Order(100)
    void theSecretAndTheTokenAreInNoLogLineAndNoPage() {
        List<String> texts = new ArrayList<>(printed);
        for (JarNode n : nodes) texts.add(n.stdout() + n.stderr());
        texts.add(Http.get(leader("/api/status")).body());
        texts.add(Http.get(leader("/")).body());
        for (int i = 0; i < 2; i++) texts.add(Http.get(follower(i, "/api/status"), sec()).body());
        assertTrue(texts.get(0).length() + texts.get(texts.size() - 1).length() > 0, "something was captured");
        assertTrue(nodes.get(0).stdout().contains("registered"), "the leader's log was captured: " + nodes.get(0).stdout());
        for (String t : texts) {
            assertFalse(t.contains(secret), "the secret was printed:\n" + t);
            assertFalse(t.contains(secret.substring(7)), "part of the secret was printed:\n" + t);
            assertFalse(t.contains(token), "the token was printed:\n" + t);
        }
    }
}
