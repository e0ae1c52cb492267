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

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PROTOCOL.md "Standby leader": a leader taking office claims an epoch above every epoch a
 * follower has accepted. A claim of the epoch a follower already serves is refused even though a
 * routine check at that epoch is not: otherwise a standby that found no trace of the active
 * leader's epoch (its directory entry expired while the leader was paused) would share it, reuse
 * its tx ids, and fail to fence it. A higher claim is refused too while the follower still hears
 * from the live leader of its epoch (PROTOCOL.md: leader stickiness), and accepted once that
 * leader has been silent for the lease.
 */
@ExtendWith(VertxExtension.class)
@Timeout(180)
class EpochClaimTest {
    @Test
    void aClaimMustBeAboveEveryAcceptedEpoch(Vertx vertx) throws Exception {
        try (LocalCluster c = new LocalCluster(vertx, 1, 1).start()) {
            assertEquals(201, Http.put(c.leader("/?key=a&val=1")).status());
            long epoch = new JsonObject(Http.get(c.leader("/api/status")).body()).getLong("epoch");

            assertEquals(200, Http.get(c.follower(0, "/tpc/check?epoch=" + epoch)).status(), "the leader's routine check");
            Http.Response same = Http.get(c.follower(0, "/tpc/check?epoch=" + epoch + "&claim=1"));
            assertEquals(409, same.status(), "another leader claiming the same epoch");
            assertEquals(Errors.STALE_LEADER, same.body());
            assertEquals(String.valueOf(epoch), same.header("X-KV-Epoch"), "so the claimant knows what to go above");
            assertEquals(409, Http.get(c.follower(0, "/tpc/check?epoch=" + (epoch - 1) + "&claim=1")).status());
            assertEquals(500, Http.get(c.follower(0, "/tpc/check?epoch=" + (epoch + 1) + "&claim=yes")).status());
            assertEquals(200, Http.get(c.follower(0, "/tpc/check?epoch=" + epoch)).status(), "refused claims changed nothing");

            Http.Response sticky = Http.get(c.follower(0, "/tpc/check?epoch=" + (epoch + 1) + "&claim=1"));
            assertEquals(409, sticky.status(), "a higher claim is refused while the leader of the current epoch is live (stickiness)");
            c.stopLeader();
            long stopped = System.nanoTime();
            Await.until("a higher claim accepted once the leader's lease ran out", Duration.ofSeconds(10),
                    () -> Http.get(c.follower(0, "/tpc/check?epoch=" + (epoch + 1) + "&claim=1")).status() == 200);
            long waited = (System.nanoTime() - stopped) / 1_000_000;
            assertTrue(waited >= 1_500, "not before the lease (2 s) ran out: " + waited + " ms");
            assertEquals(409, Http.put(c.follower(0, "/?key=b&val=2&tx=" + epoch + ".77&epoch=" + epoch)).status(),
                    "the old epoch is fenced");
            assertEquals(200, Http.get(c.follower(0, "/tpc/check?epoch=" + (epoch + 1))).status(), "the new leader's routine check");
        }
    }
}
