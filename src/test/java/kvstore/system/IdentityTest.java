package kvstore.system;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.LocalCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 5 and PROTOCOL.md "Node identity": a follower whose data directory was lost
 * (same HOST:PORT, another identity) is refused, with the reason in /api/status, instead of
 * answering "no key" for data it no longer has.
 */
@ExtendWith(VertxExtension.class)
@Timeout(180)
class IdentityTest {
    @Test
    void aFollowerThatLostItsDataIsRefused(Vertx vertx) throws Exception {
        try (LocalCluster c = new LocalCluster(vertx, 2, 2).start()) {
            for (int i = 0; i < 10; i++) assertEquals(201, Http.put(c.leader("/?key=k" + i + "&val=v" + i)).status());
            c.stopFollower(0);
            Path data = c.followerSettings(0).dataDir();
            try (Stream<Path> w = Files.walk(data)) {
                w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            c.startFollower(0);
            int port = c.followerPorts.get(0);
            JsonObject f = Await.value("the leader refuses it", Duration.ofSeconds(20), () -> {
                for (Object o : c.status().getJsonArray("followers")) {
                    JsonObject x = (JsonObject) o;
                    if (x.getInteger("port") == port && x.getString("refused") != null) return x;
                }
                return null;
            });
            assertTrue(f.getString("refused").contains("identity"), f.encode());
            assertEquals(false, f.getBoolean("up"));
            JsonObject fs = new JsonObject(Http.get(c.follower(0, "/api/status")).body());
            assertEquals(false, fs.getBoolean("registered"), "the follower knows it is not accepted");
            assertEquals(503, Http.get(c.follower(0, "/api/health")).status());
            for (int i = 0; i < 10; i++) {
                assertEquals("v" + i, Http.get(c.leader("/?key=k" + i)).body(), "reads are served by the other replica");
            }
            Http.Response w = Http.put(c.leader("/?key=k0&val=changed"));
            assertEquals(500, w.status());
            assertEquals(Errors.UNABLE, w.body());
            assertNotNull(c.status().getJsonArray("followers"));
        }
    }
}
