package kvstore.it;

import kvstore.testing.Http;
import kvstore.testing.JarNode;
import kvstore.testing.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SPEC.md section 1 on the real jar: help, usage errors, runtime errors and their exit codes. */
class CommandLineIT {
    @TempDir
    Path dir;

    @Test
    void helpPrintsEveryOptionAndExitsZero() throws Exception {
        JarNode.Result r = JarNode.run(dir, Map.of(), "help");
        assertEquals(0, r.exitCode());
        for (String opt : new String[] {"--port", "--host", "--advertise", "--followers", "--redundancy", "--leader",
                "--data-dir", "--secret", "--client-token", "--insecure", "--vnodes", "--cluster", "--cluster-port",
                "--cluster-members", "--conf"}) {
            assertTrue(r.stdout().contains(opt), "help mentions " + opt);
        }
    }

    @Test
    void badArgumentsExitTwoWithAReasonAndTheUsage() throws Exception {
        for (String[] args : new String[][] {{"leader", "notaport"}, {"--bogus"}, {"frobnicate"}, {"leader", "1", "2", "3", "4"},
                {"follower", "--leader", "nocolon"}, {"leader", "--port"}}) {
            JarNode.Result r = JarNode.run(dir, Map.of(), args);
            assertEquals(2, r.exitCode(), String.join(" ", args));
            assertTrue(r.stderr().startsWith("kvstore: "), r.stderr());
            assertTrue(r.stderr().contains("usage:"), r.stderr());
        }
    }

    @Test
    void protectedModeRefusesAPublicAddressWithoutASecret() throws Exception {
        JarNode.Result r = JarNode.run(dir, Map.of(), "leader", "--host", "0.0.0.0", "--advertise", "127.0.0.1", "--port", String.valueOf(Ports.free()));
        assertEquals(2, r.exitCode());
        assertTrue(r.stderr().contains("--secret"), r.stderr());
        JarNode.Result w = JarNode.run(dir, Map.of(), "leader", "--host", "0.0.0.0");
        assertEquals(2, w.exitCode(), "a wildcard needs --advertise");
    }

    @Test
    void aPortInUseExitsOneAndTouchesNothing() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Path data = dir.resolve("d");
            JarNode.Result r = JarNode.run(dir, Map.of(), "leader", String.valueOf(busy.getLocalPort()), "--data-dir", data.toString());
            assertEquals(1, r.exitCode());
            assertTrue(r.stderr().contains("in use"), r.stderr());
            assertFalse(Files.exists(data), "the data directory is not created");
        }
    }

    @Test
    void aCorruptConfigExitsOne() throws Exception {
        Path conf = dir.resolve("bad.json");
        Files.writeString(conf, "{ not json");
        assertEquals(1, JarNode.run(dir, Map.of(), "leader", "--conf", conf.toString()).exitCode());
        Files.writeString(conf, "{\"prot\": 1}");
        JarNode.Result r = JarNode.run(dir, Map.of(), "leader", "--conf", conf.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().contains("prot"), r.stderr());
        assertEquals(1, JarNode.run(dir, Map.of(), "leader", "--conf", dir.resolve("missing.json").toString()).exitCode());
    }

    @Test
    void aConfigFileRunsARoleAndOptionsOverrideIt() throws Exception {
        int port = Ports.free(), other = Ports.free();
        Path conf = dir.resolve("leader.json");
        Files.writeString(conf, "{\"role\": \"leader\", \"port\": " + other + ", \"followers\": 2, \"redundancy\": 2, \"dataDir\": \"ldata\"}");
        try (JarNode n = JarNode.start(dir, Map.of(), "--conf", conf.toString(), "--port", String.valueOf(port))) {
            n.awaitOutput("kvstore leader listening on http://127.0.0.1:" + port, Duration.ofSeconds(30));
            var s = new io.vertx.core.json.JsonObject(Http.get("http://127.0.0.1:" + port + "/api/status").body());
            assertEquals(2, s.getInteger("capacity"));
            assertEquals(2, s.getInteger("redundancy"));
            assertTrue(Files.isDirectory(dir.resolve("ldata")));
            assertEquals(0, n.term(Duration.ofSeconds(30)), "SIGTERM exits 0");
        }
    }
}
