package kvstore.it;

import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.JarNode;
import kvstore.testing.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command-line client of SPEC.md section 9, as a user runs it: {@code java -jar kvstore.jar
 * VERB ...} against the embedded default from the same jar (on free ports, with a client token
 * so that KVSTORE_TOKEN is exercised). Method: run each verb as its own process and check
 * stdout, stderr and the exit code; every exit code (0, 1, 2, 3) appears, and each answer is
 * checked against the server with plain HTTP.
 */
class CliIT {
    private static final String TOKEN = "cli-test-token";
    private static final Map<String, String> ENV = Map.of("KVSTORE_TOKEN", TOKEN, "LANG", "C.UTF-8");
    static Path dir;
    static JarNode cluster;
    static String leader;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("kvstore-cli");
        int base = Ports.freeRange(4);
        leader = "127.0.0.1:" + base;
        cluster = JarNode.start(dir, Map.of(), "--port", String.valueOf(base), "--client-token", TOKEN);
        Await.until("embedded default ready", Duration.ofSeconds(60), () -> Http.get("http://" + leader + "/api/health").status() == 200);
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) assertEquals(0, cluster.term(Duration.ofSeconds(30)));
    }

    private static JarNode.Result cli(Map<String, String> env, String... args) throws Exception {
        return JarNode.run(dir, env, args);
    }

    @Test
    void putGetDelWithSpacesSymbolsAndUtf8() throws Exception {
        String key = "cli key/with?&=+ symbols";
        String value = "grüße € 100% + 1 & more";
        JarNode.Result put = cli(ENV, "put", key, value, "--leader", leader);
        assertEquals(0, put.exitCode(), put.stderr());
        assertEquals("", put.stdout());

        JarNode.Result get = cli(ENV, "--leader", "http://" + leader, "get", key);
        assertEquals(0, get.exitCode(), get.stderr());
        assertEquals(value + "\n", get.stdout(), "the value and a newline");
        assertEquals(value, Http.get("http://" + leader + "/?key=" + Http.enc(key), "Authorization", "Bearer " + TOKEN).body(),
                "the server stored exactly what was typed");

        JarNode.Result del = cli(ENV, "del", "--leader", leader, key);
        assertEquals(0, del.exitCode(), del.stderr());
        assertEquals("", del.stdout());
    }

    @Test
    void statusPrintsTheLeadersJson() throws Exception {
        JarNode.Result r = cli(ENV, "status", "--leader", leader);
        assertEquals(0, r.exitCode(), r.stderr());
        JsonObject s = new JsonObject(r.stdout().trim());
        assertEquals("leader", s.getString("role"));
        assertEquals(3, s.getJsonArray("followers").size());
        assertTrue(r.stdout().endsWith("}\n"));
    }

    @Test
    void serverErrorsExitOneWithTheBodyOnStderr() throws Exception {
        JarNode.Result missing = cli(ENV, "get", "cli-never-written", "--leader", leader);
        assertEquals(1, missing.exitCode());
        assertEquals(Errors.NO_KEY + "\n", missing.stderr());
        assertEquals("", missing.stdout());

        JarNode.Result delMissing = cli(ENV, "del", "cli-never-written", "--leader", leader);
        assertEquals(1, delMissing.exitCode());
        assertEquals(Errors.NO_KEY + "\n", delMissing.stderr());

        JarNode.Result tooLong = cli(ENV, "put", "k", "v".repeat(1025), "--leader", leader);
        assertEquals(1, tooLong.exitCode());
        assertEquals(Errors.VALUE_TOO_LONG + "\n", tooLong.stderr());

        JarNode.Result noToken = cli(Map.of(), "get", "k", "--leader", leader);
        assertEquals(1, noToken.exitCode(), "without KVSTORE_TOKEN the leader refuses");
        assertEquals(Errors.UNAUTHORIZED + "\n", noToken.stderr());
    }

    @Test
    void anUnreachableLeaderExitsThree() throws Exception {
        int nobody = Ports.free();
        JarNode.Result r = cli(ENV, "get", "k", "--leader", "127.0.0.1:" + nobody);
        assertEquals(3, r.exitCode());
        assertTrue(r.stderr().contains("cannot reach the leader at http://127.0.0.1:" + nobody), r.stderr());
        assertEquals("", r.stdout());
        assertEquals(3, cli(ENV, "status", "--leader", "127.0.0.1:" + nobody).exitCode());
    }

    @Test
    void badUsageExitsTwoWithTheUsage() throws Exception {
        for (String[] args : new String[][] {{"get"}, {"put", "only-a-key"}, {"del", "a", "b"}, {"get", "k", "--leader", "nocolon"},
                {"get", "k", "--port", "1"}}) {
            JarNode.Result r = cli(ENV, args);
            assertEquals(2, r.exitCode(), String.join(" ", args));
            assertTrue(r.stderr().startsWith("kvstore: "), r.stderr());
            assertTrue(r.stderr().contains("usage:"), r.stderr());
        }
        JarNode.Result ascii = cli(Map.of("KVSTORE_TOKEN", TOKEN, "LANG", "C", "LC_ALL", "C"), "put", "k", "grüße", "--leader", leader);
        assertEquals(2, ascii.exitCode(), "a non-UTF-8 locale cannot pass non-ASCII arguments: refuse, never store '?'");
        assertTrue(ascii.stderr().contains("LANG=C.UTF-8"), ascii.stderr());
    }
}
