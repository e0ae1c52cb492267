package kvstore.system;

import io.vertx.core.Vertx;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 3, row by row, on a real follower: the leader's tx-carrying messages, epochs
 * and fencing, and the seed's hand-driven two-phase commit (the manual slot).
 */
@ExtendWith(VertxExtension.class)
@Timeout(180)
class ParticipantApiTest {
    static LocalCluster cluster;
    static long epoch;

    @BeforeAll
    @Timeout(120)
    static void start(Vertx vertx) throws Exception {
        cluster = new LocalCluster(vertx, 1, 1).start();
        epoch = cluster.status().getLong("epoch");
    }

    @AfterAll
    static void stop() throws Exception {
        cluster.close();
    }

    static String f(String q) {
        return cluster.follower(0, q);
    }

    @Test
    void leaderTransactionPhaseOneAndTwo() {
        String tx = epoch + ".9001";
        Http.Response vote = Http.put(f("/?key=p1&val=v1&tx=" + tx + "&epoch=" + epoch));
        assertEquals(202, vote.status());
        assertEquals("commit", vote.body());
        Http.Response pending = Http.get(f("/?key=p1&epoch=" + epoch));
        assertEquals(503, pending.status());
        assertEquals(Errors.PENDING, pending.body());
        assertEquals(Errors.NO_KEY, Http.get(f("/?key=p1")).body(), "a person sees the committed state");
        assertEquals(204, Http.post(f("/commit?tx=" + tx + "&epoch=" + epoch)).status());
        assertEquals(204, Http.post(f("/commit?tx=" + tx + "&epoch=" + epoch)).status(), "idempotent");
        assertEquals("v1", Http.get(f("/?key=p1&epoch=" + epoch)).body());
        assertEquals(500, Http.post(f("/abort?tx=" + tx + "&epoch=" + epoch)).status(), "never contradict a decision");
    }

    @Test
    void abortAndPresumedAbort() {
        String tx = epoch + ".9002";
        assertEquals(202, Http.put(f("/?key=p2&val=v&tx=" + tx + "&epoch=" + epoch)).status());
        assertEquals(204, Http.post(f("/abort?tx=" + tx + "&epoch=" + epoch)).status());
        assertEquals(Errors.NO_KEY, Http.get(f("/?key=p2")).body());
        assertEquals(204, Http.post(f("/abort?tx=" + epoch + ".9999&epoch=" + epoch)).status(), "unknown tx: presumed abort");
        assertEquals(500, Http.post(f("/commit?tx=" + epoch + ".9998&epoch=" + epoch)).status(), "never a silent 204");
    }

    @Test
    void deleteOfAbsentKeyVotesNo() {
        Http.Response r = Http.delete(f("/?key=absent&tx=" + epoch + ".9003&epoch=" + epoch));
        assertEquals(500, r.status());
        assertEquals(Errors.NO_KEY, r.body());
    }

    @Test
    void fencing() {
        Http.Response stale = Http.put(f("/?key=p3&val=v&tx=" + (epoch - 1) + ".1&epoch=" + (epoch - 1)));
        if (epoch > 1) {
            assertEquals(409, stale.status());
            assertEquals(Errors.STALE_LEADER, stale.body());
        }
        assertEquals(409, Http.post(f("/commit?tx=1.1&epoch=0")).status());
        assertEquals(Errors.INVALID_REQUEST, Http.put(f("/?key=p3&val=v&tx=" + epoch + ".5")).body(), "tx without epoch");
        assertEquals(Errors.INVALID_REQUEST, Http.post(f("/commit?tx=banana&epoch=" + epoch)).body());
    }

    @Test
    void manualTwoPhaseCommitByHand() {
        assertEquals(202, Http.put(f("/?key=hand&val=made")).status());
        JsonObject s = new JsonObject(Http.get(f("/api/status")).body());
        assertNotNull(s.getJsonObject("manual"));
        assertEquals("hand", s.getJsonObject("manual").getString("key"));
        assertEquals(500, Http.put(f("/?key=other&val=x")).status(), "one manual transaction at a time");
        assertEquals(204, Http.post(f("/commit")).status());
        assertEquals("made", Http.get(f("/?key=hand")).body());
        s = new JsonObject(Http.get(f("/api/status")).body());
        assertTrue(s.getJsonArray("changedByHand").contains("hand"));
        assertEquals(202, Http.put(f("/?key=hand&val=undo")).status());
        assertEquals(204, Http.post(f("/abort")).status());
        assertEquals("made", Http.get(f("/?key=hand")).body());
        assertEquals(204, Http.post(f("/abort")).status(), "nothing pending: presumed abort");
        assertEquals(204, Http.post(f("/commit")).status(), "nothing pending to commit: 204, as the seed answers");
    }

    @Test
    void followerStatus() {
        JsonObject s = new JsonObject(Http.get(f("/api/status")).body());
        assertEquals("follower", s.getString("role"));
        assertEquals("127.0.0.1:" + cluster.leaderPort, s.getString("leader"));
        assertEquals(epoch, s.getLong("epoch"));
        assertTrue(s.getLong("logBytes") > 0);
        assertNotNull(s.getInteger("keys"));
        assertNotNull(s.getJsonArray("pending"));
        assertEquals(200, Http.get(f("/api/health")).status());
        assertEquals(200, Http.get(f("/")).status());
    }
}
