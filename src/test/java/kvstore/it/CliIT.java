package kvstore.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.JarNode;
import kvstore.testing.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command-line client of SPEC.md sections 9, 10 and 11, as a user runs it: {@code java -jar
 * kvstore.jar VERB ...} against the embedded default from the same jar (on free ports, with a
 * client token so that KVSTORE_TOKEN is exercised; the membership verbs against a second one with
 * a cluster secret, so that KVSTORE_SECRET is). Method: run each verb as its own process and check
 * stdout, stderr and the exit code; every exit code (0, 1, 2, 3) appears, and each answer is
 * checked against the server with plain HTTP (versions against the X-KV-Version headers).
 */
class CliIT {
    private static final String TOKEN = "cli-test-token";
    private static final Map<String, String> ENV = Map.of("KVSTORE_TOKEN", TOKEN, "LANG", "C.UTF-8");
    @TempDir
    static Path dir; // JUnit deletes it afterwards (a temp directory of our own stayed in /tmp after every run)
    static JarNode cluster;
    static String leader;

    @BeforeAll
    static void start() throws Exception {
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

    /** Like {@link #cli} with stdin read from a file (for {@code txn -}). */
    private static JarNode.Result cliWithStdin(Map<String, String> env, Path stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar",
                JarNode.jar().toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "cli", ".out");
        Path err = Files.createTempFile(dir, "cli", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectInput(stdin.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("KVSTORE_SECRET");
        pb.environment().remove("KVSTORE_TOKEN");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the client did not exit within 60 s: " + cmd);
        }
        return new JarNode.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    private static Http.Response httpGet(String key) {
        return Http.get("http://" + leader + "/?key=" + Http.enc(key), "Authorization", "Bearer " + TOKEN);
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

    /* --- SPEC.md section 11: versions and conditional writes --- */

    /** get -v prints the value on stdout and its version on stderr; --if-version makes put and del conditional. */
    @Test
    @Timeout(180)
    void versionsAndConditionalWrites() throws Exception {
        String key = "cli-versioned key";
        assertEquals(0, cli(ENV, "put", key, "one", "--leader", leader).exitCode());
        long v1 = Long.parseLong(httpGet(key).header("X-KV-Version"));

        JarNode.Result get = cli(ENV, "get", "-v", key, "--leader", leader);
        assertEquals(0, get.exitCode(), get.stderr());
        assertEquals("one\n", get.stdout(), "the value alone on stdout, as without -v");
        assertEquals("version " + v1 + "\n", get.stderr(), "the version on stderr");
        JarNode.Result before = cli(ENV, "-v", "--leader", leader, "get", key);
        assertEquals("version " + v1 + "\n", before.stderr(), "-v may stand before the verb too");

        JarNode.Result cas = cli(ENV, "put", key, "two", "--if-version", String.valueOf(v1), "--leader", leader);
        assertEquals(0, cas.exitCode(), cas.stderr());
        assertEquals("", cas.stdout());
        Http.Response now = httpGet(key);
        assertEquals("two", now.body());
        long v2 = Long.parseLong(now.header("X-KV-Version"));
        assertTrue(v2 > v1, "a write gets a higher version: " + v1 + " then " + v2);

        JarNode.Result stale = cli(ENV, "put", key, "three", "--if-version=" + v1, "--leader", leader);
        assertEquals(1, stale.exitCode(), "a stale version is the server's 412");
        assertEquals(Errors.VERSION_MISMATCH + "\n", stale.stderr());
        assertEquals("two", httpGet(key).body(), "the refused write changed nothing");

        JarNode.Result staleDel = cli(ENV, "del", key, "--if-version", String.valueOf(v1), "--leader", leader);
        assertEquals(1, staleDel.exitCode());
        assertEquals(Errors.VERSION_MISMATCH + "\n", staleDel.stderr());
        JarNode.Result del = cli(ENV, "del", "--if-version", String.valueOf(v2), key, "--leader", leader);
        assertEquals(0, del.exitCode(), del.stderr());
        assertEquals(500, httpGet(key).status(), "deleted");

        String fresh = "cli-only-if-absent";
        assertEquals(0, cli(ENV, "put", fresh, "first", "--if-version", "0", "--leader", leader).exitCode(), "0: only if absent");
        JarNode.Result again = cli(ENV, "put", fresh, "second", "--if-version", "0", "--leader", leader);
        assertEquals(1, again.exitCode());
        assertEquals(Errors.VERSION_MISMATCH + "\n", again.stderr());
        JarNode.Result delZero = cli(ENV, "del", fresh, "--if-version", "0", "--leader", leader);
        assertEquals(1, delZero.exitCode(), "ifVersion=0 on DELETE is the server's invalid request");
        assertEquals(Errors.INVALID_REQUEST + "\n", delZero.stderr());

        JarNode.Result dashV = cli(ENV, "put", "--leader", leader, "--", "-v", "-v");
        assertEquals(0, dashV.exitCode(), "after --, -v is a word: " + dashV.stderr());
        JarNode.Result getDashV = cli(ENV, "get", "-v", "--leader", leader, "--", "-v");
        assertEquals("-v\n", getDashV.stdout());
        assertTrue(getDashV.stderr().startsWith("version "), getDashV.stderr());
        assertEquals(0, cli(ENV, "put", "cli-dash", "-v", "--leader", leader).exitCode(), "put's value may be -v, as before");
        assertEquals("-v", httpGet("cli-dash").body());

        for (String[] args : new String[][] {{"put", "k", "v", "--if-version", "seven"}, {"put", "k", "v", "--if-version", "-1"},
                {"get", "k", "--if-version", "1"}, {"put", "k", "v", "--if-version"}, {"status", "--json"}, {"get", "-v"},
                {"leader", "--if-version", "1"}}) {
            JarNode.Result r = cli(ENV, args);
            assertEquals(2, r.exitCode(), String.join(" ", args) + ": " + r.stderr());
            assertTrue(r.stderr().startsWith("kvstore: ") && r.stderr().contains("usage:"), r.stderr());
        }
    }

    /* --- SPEC.md section 11: transactions --- */

    /** txn FILE and txn - (stdin) print the answer's JSON; both branches; a malformed body is exit 1, a missing file exit 2. */
    @Test
    @Timeout(180)
    void txnFromAFileAndFromStdin() throws Exception {
        Path file = dir.resolve("two-keys.json");
        Files.writeString(file, """
                {"if": [{"key": "cli-txn-a", "version": 0}],
                 "then": [{"op": "put", "key": "cli-txn-a", "val": "alpha"}, {"op": "put", "key": "cli-txn-b", "val": "beta ü"}],
                 "else": [{"op": "get", "key": "cli-txn-a"}]}
                """, StandardCharsets.UTF_8);
        JarNode.Result first = cli(ENV, "txn", file.toString(), "--leader", leader);
        assertEquals(0, first.exitCode(), first.stderr());
        assertTrue(first.stdout().endsWith("}\n"), first.stdout());
        JsonObject a = new JsonObject(first.stdout().trim());
        assertTrue(a.getBoolean("succeeded"), a.encode());
        long version = a.getLong("version");
        JsonArray results = a.getJsonArray("results");
        assertEquals(2, results.size());
        for (int i = 0; i < 2; i++) assertEquals(version, results.getJsonObject(i).getLong("version"), "one version for the branch");
        assertEquals("alpha", httpGet("cli-txn-a").body());
        assertEquals("beta ü", httpGet("cli-txn-b").body());
        assertEquals(String.valueOf(version), httpGet("cli-txn-b").header("X-KV-Version"));

        JarNode.Result second = cliWithStdin(ENV, file, "txn", "-", "--leader", leader);
        assertEquals(0, second.exitCode(), "a condition that fails is still an answer: " + second.stderr());
        JsonObject b = new JsonObject(second.stdout().trim());
        assertFalse(b.getBoolean("succeeded"));
        JsonObject got = b.getJsonArray("results").getJsonObject(0);
        assertEquals("alpha", got.getString("val"), "else ran its get");
        assertEquals(version, got.getLong("version"));

        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"then\": [{\"op\": \"frobnicate\", \"key\": \"x\"}]}");
        JarNode.Result malformed = cli(ENV, "txn", bad.toString(), "--leader", leader);
        assertEquals(1, malformed.exitCode());
        assertEquals(Errors.INVALID_REQUEST + "\n", malformed.stderr());
        assertEquals("", malformed.stdout());

        JarNode.Result missing = cli(ENV, "txn", dir.resolve("no-such.json").toString(), "--leader", leader);
        assertEquals(2, missing.exitCode());
        assertTrue(missing.stderr().startsWith("kvstore: txn: cannot read"), missing.stderr());
        Path big = dir.resolve("big.json");
        Files.writeString(big, "{\"then\": []}" + " ".repeat(70_000));
        assertEquals(2, cli(ENV, "txn", big.toString(), "--leader", leader).exitCode(), "over 64 KiB: refused before sending");
        assertEquals(2, cli(ENV, "txn", "--leader", leader).exitCode(), "txn needs a file");

        JarNode.Result noToken = cli(Map.of(), "txn", file.toString(), "--leader", leader);
        assertEquals(1, noToken.exitCode());
        assertEquals(Errors.UNAUTHORIZED + "\n", noToken.stderr());
        assertEquals(3, cli(ENV, "txn", file.toString(), "--leader", "127.0.0.1:" + Ports.free()).exitCode());
    }

    /* --- SPEC.md section 10: membership, against a cluster with a secret --- */

    /**
     * members lists (a table, or --json), capacity changes, evict removes a follower from the ring
     * (shown as evicted), drain is refused where it would leave fewer than redundancy members, and
     * every admin verb needs KVSTORE_SECRET. Its own embedded default, since it changes the shape.
     */
    @Test
    @Timeout(300)
    void membersListCapacityEvictAndDrain() throws Exception {
        int base = Ports.freeRange(4);
        String l = "127.0.0.1:" + base;
        Map<String, String> secret = Map.of("KVSTORE_SECRET", "cli-secret", "LANG", "C.UTF-8");
        try (JarNode c = JarNode.start(dir.resolve("members"), Map.of("KVSTORE_SECRET", "cli-secret"), "--port", String.valueOf(base))) {
            Await.until("secured embedded default ready", Duration.ofSeconds(60), () -> Http.get("http://" + l + "/api/health").status() == 200);
            for (int i = 0; i < 20; i++) assertEquals(201, Http.put("http://" + l + "/?key=m" + i + "&val=v" + i).status());
            Await.until("nothing moving", Duration.ofSeconds(30), () -> members(l).getValue("rebalancing") == null);

            JarNode.Result noSecret = cli(Map.of(), "members", "--leader", l);
            assertEquals(1, noSecret.exitCode(), "the membership needs the secret");
            assertEquals(Errors.UNAUTHORIZED + "\n", noSecret.stderr());
            assertEquals(1, cli(Map.of(), "members", "capacity", "5", "--leader", l).exitCode());

            JarNode.Result table = cli(secret, "members", "--leader", l);
            assertEquals(0, table.exitCode(), table.stderr());
            JsonObject m = members(l);
            String[] lines = table.stdout().split("\n");
            assertEquals("view " + m.getLong("view") + ", capacity 3, redundancy 2, 3 members", lines[0]);
            assertTrue(lines[1].startsWith("MEMBER") && lines[1].contains("STATE"), lines[1]);
            for (int p = base + 1; p <= base + 3; p++) assertTrue(lineFor(table.stdout(), "127.0.0.1:" + p).contains(" up "), table.stdout());
            assertEquals("rebalancing: no key is moving", lines[lines.length - 1]);

            JarNode.Result json = cli(secret, "members", "--json", "--leader", l);
            assertEquals(0, json.exitCode());
            assertEquals(3, new JsonObject(json.stdout().trim()).getJsonArray("members").size());

            JarNode.Result low = cli(secret, "members", "capacity", "1", "--leader", l);
            assertEquals(1, low.exitCode(), "below redundancy");
            assertEquals(Errors.INVALID_REQUEST + "\n", low.stderr());
            JarNode.Result capacity = cli(secret, "members", "capacity", "4", "--leader", l);
            assertEquals(0, capacity.exitCode(), capacity.stderr());
            assertEquals(new JsonObject().put("capacity", 4), new JsonObject(capacity.stdout().trim()));
            assertEquals(4, members(l).getInteger("capacity"));

            String victim = "127.0.0.1:" + (base + 3);
            long viewBefore = members(l).getLong("view");
            JarNode.Result evict = cli(secret, "members", "evict", victim, "--leader", "http://" + l);
            assertEquals(0, evict.exitCode(), evict.stderr());
            long view = new JsonObject(evict.stdout().trim()).getLong("view");
            assertTrue(view > viewBefore, "the eviction is a new view: " + viewBefore + " then " + view);
            Await.until("the keys moved off " + victim, Duration.ofSeconds(60), () -> {
                JsonObject now = members(l);
                return now.getValue("rebalancing") == null && now.getJsonArray("members").size() == 2;
            });
            JarNode.Result after = cli(secret, "members", "--leader", l);
            assertTrue(after.stdout().contains("2 members"), after.stdout());
            assertTrue(after.stdout().contains("EVICTED"), after.stdout());
            assertTrue(lineFor(after.stdout(), victim).matches("127\\.0\\.0\\.1:\\d+\\s+\\d{4}-\\d\\d-\\d\\dT.*Z"), after.stdout());
            for (int i = 0; i < 20; i++) assertEquals("v" + i, Http.get("http://" + l + "/?key=m" + i).body(), "every key readable after the eviction");
            assertEquals("v7\n", cli(secret, "get", "m7", "--leader", l).stdout());
            assertEquals(0, cli(secret, "put", "m0", "after", "--leader", l).exitCode(), "writes work with redundancy members left");

            JarNode.Result drain = cli(secret, "members", "drain", "127.0.0.1:" + (base + 1), "--leader", l);
            assertEquals(1, drain.exitCode(), "a drain may not leave fewer than redundancy members");
            assertEquals(Errors.INVALID_REQUEST + "\n", drain.stderr());
            JarNode.Result unknown = cli(secret, "members", "evict", "127.0.0.1:1", "--leader", l);
            assertEquals(1, unknown.exitCode());
            assertEquals(Errors.INVALID_REQUEST + "\n", unknown.stderr());

            for (String[] args : new String[][] {{"members", "evict"}, {"members", "evict", "nocolon"}, {"members", "drain", "a:b"},
                    {"members", "capacity"}, {"members", "capacity", "many"}, {"members", "frobnicate"}, {"members", "evict", "h:1", "h:2"},
                    {"members", "capacity", "4", "--json"}}) {
                JarNode.Result r = cli(secret, args);
                assertEquals(2, r.exitCode(), String.join(" ", args) + ": " + r.stderr());
            }
            int nobody = Ports.free();
            JarNode.Result down = cli(secret, "members", "--leader", "127.0.0.1:" + nobody);
            assertEquals(3, down.exitCode());
            assertTrue(down.stderr().contains("cannot reach the leader at http://127.0.0.1:" + nobody), down.stderr());
            assertEquals(0, c.term(Duration.ofSeconds(30)));
        }
    }

    private static JsonObject members(String l) {
        Http.Response r = Http.get("http://" + l + "/api/members", "X-KV-Secret", "cli-secret");
        assertEquals(200, r.status(), r.body());
        return new JsonObject(r.body());
    }

    private static String lineFor(String out, String address) {
        for (String line : out.split("\n")) if (line.startsWith(address + " ")) return line;
        throw new AssertionError("no line for " + address + " in:\n" + out);
    }
}
