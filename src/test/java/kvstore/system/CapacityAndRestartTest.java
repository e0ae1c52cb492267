package kvstore.system;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.LocalCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * SPEC.md section 2 (capacity) and PROTOCOL.md "Recovery": the leader refuses clients until its
 * followers registered, and a stop and start of every node keeps every acknowledged write.
 */
@ExtendWith(VertxExtension.class)
@Timeout(180)
class CapacityAndRestartTest {

    @Test
    void clientsWaitForCapacityThenDataSurvivesRestarts(Vertx vertx) throws Exception {
        try (LocalCluster c = new LocalCluster(vertx, 2, 2)) {
            c.startLeader();
            Http.Response early = Http.put(c.leader("/?key=a&val=1"));
            assertEquals(500, early.status());
            assertEquals(Errors.CAPACITY_NOT_FULL, early.body());
            assertEquals(Errors.CAPACITY_NOT_FULL, Http.get(c.leader("/?key=a")).body());
            assertEquals(503, Http.get(c.leader("/api/health")).status());
            c.startFollower(0);
            Await.until("first follower registered", Duration.ofSeconds(10), () -> c.status().getInteger("registered") == 1);
            assertEquals(Errors.CAPACITY_NOT_FULL, Http.delete(c.leader("/?key=a")).body());
            assertEquals(Errors.INVALID_REQUEST, Http.put(c.leader("/?key=a")).body(), "invalid request comes before capacity");
            c.startFollower(1);
            c.awaitReady();

            for (int i = 0; i < 50; i++) assertEquals(201, Http.put(c.leader("/?key=k" + i + "&val=v" + i)).status());
            assertEquals(201, Http.delete(c.leader("/?key=k7")).status());

            // Stop everything, start everything again on the same directories.
            c.stopFollower(0);
            c.stopFollower(1);
            c.stopLeader();
            c.startLeader();
            c.startFollower(0);
            c.startFollower(1);
            c.awaitReady();
            for (int i = 0; i < 50; i++) {
                Http.Response r = Http.get(c.leader("/?key=k" + i));
                if (i == 7) assertEquals(Errors.NO_KEY, r.body());
                else assertEquals("v" + i, r.body(), "k" + i + " after restart");
            }
            assertEquals(201, Http.put(c.leader("/?key=after&val=restart")).status());
        }
    }

    @Test
    void aRestartedLeaderKnowsItsFollowersWithoutNewRegistrations(Vertx vertx) throws Exception {
        try (LocalCluster c = new LocalCluster(vertx, 2, 1).start()) {
            long epoch = c.status().getLong("epoch");
            assertEquals(201, Http.put(c.leader("/?key=x&val=1")).status());
            c.stopLeader();
            c.startLeader();
            c.awaitReady();
            assertEquals(epoch + 1, c.status().getLong("epoch"), "a new epoch per start");
            assertEquals("1", Http.get(c.leader("/?key=x")).body());
            Await.until("followers learn the new epoch", Duration.ofSeconds(10), () ->
                    new io.vertx.core.json.JsonObject(Http.get(c.follower(0, "/api/status")).body()).getLong("epoch") == epoch + 1);
        }
    }

    @Test
    void aFollowerKilledIsMarkedDownAndWritesToItsKeysFailThenRecover(Vertx vertx) throws Exception {
        try (LocalCluster c = new LocalCluster(vertx, 3, 2).start()) {
            c.stopFollower(0);
            int port = c.followerPorts.get(0);
            Await.until("follower marked down", Duration.ofSeconds(10), () -> {
                for (Object o : c.status().getJsonArray("followers")) {
                    var f = (io.vertx.core.json.JsonObject) o;
                    if (f.getInteger("port") == port) return !f.getBoolean("up");
                }
                return false;
            });
            int failed = 0, ok = 0;
            for (int i = 0; i < 30; i++) {
                Http.Response r = Http.put(c.leader("/?key=d" + i + "&val=1"));
                if (r.status() == 201) ok++;
                else {
                    failed++;
                    assertEquals(Errors.UNABLE, r.body());
                }
            }
            org.junit.jupiter.api.Assertions.assertTrue(failed > 0 && ok > 0, "keys on the dead follower fail, others work: " + ok + "/" + failed
                    + "; the leader's status: " + c.status().encode());
            c.startFollower(0);
            Await.until("all writes work again", Duration.ofSeconds(15), () -> {
                for (int i = 0; i < 30; i++) if (Http.put(c.leader("/?key=d" + i + "&val=2")).status() != 201) return false;
                return true;
            });
            for (int i = 0; i < 30; i++) assertEquals("2", Http.get(c.leader("/?key=d" + i)).body());
        }
    }
}
