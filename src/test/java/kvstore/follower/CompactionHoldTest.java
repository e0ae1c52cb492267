package kvstore.follower;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A copy round cancelled and the next one begun, as a gainer's rounds go when views follow each
 * other: the compaction is let go {@code afterMillis} after the last round ends, not at the time
 * the cancelled round's release was set for. Before, each end of a round set a timer of its own,
 * and the first one to fire after the last round ended let go at once: a gainer's log was
 * compacted right after its copy (JFR: a million keys replayed, young collections of 100-350 ms),
 * in the seconds the leader switches the range to it.
 */
@ExtendWith(VertxExtension.class)
@Timeout(30)
class CompactionHoldTest {
    static final long AFTER = 1_500;

    @Test
    void aReleaseComesAfterTheLastRoundEndsNotAfterAnEarlierOne(Vertx vertx) throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        CompletableFuture<Long> letGo = new CompletableFuture<>();
        CompletableFuture<Long> secondEnd = new CompletableFuture<>();
        vertx.runOnContext(x -> {
            CompactionHold h = new CompactionHold(vertx, hold -> {
                events.add(hold ? "hold" : "let go");
                if (!hold) letGo.complete(System.nanoTime());
            }, AFTER);
            h.hold();            // round 1 runs
            h.releaseLater();    // cancelled by a newer view
            h.hold();            // round 2 begins at once
            vertx.setTimer(AFTER / 2, t -> {
                secondEnd.complete(System.nanoTime());
                h.releaseLater(); // round 2 done, half-way through the wait round 1's end had set
            });
        });
        long released = letGo.get(20, TimeUnit.SECONDS);
        long roundTwoEnded = secondEnd.get(1, TimeUnit.SECONDS);
        long waitedMillis = (released - roundTwoEnded) / 1_000_000;
        assertTrue(waitedMillis >= AFTER - 5, "let go " + waitedMillis + " ms after the last round ended (at least " + AFTER + " expected; "
                + (released - start) / 1_000_000 + " ms after the first)");
        assertEquals(List.of("hold", "hold", "let go"), events);
    }
}
