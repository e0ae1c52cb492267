package kvstore.system;

import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import kvstore.core.Errors;
import kvstore.testing.LocalCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The work queue is bounded (issue "The whole system", SPEC.md section 2): with room for 4
 * operations, a burst of 200 concurrent writes gets some 201s and, for the rest, 503
 * {@code error: unable to process request} at once, never a queue that grows without limit.
 *
 * <p>Method: the burst goes out from Vert.x's WebClient, one connection per request so that all
 * 200 reach the leader together; a checkpoint per request counts the answers, and each answer is
 * checked as it arrives (vertx-junit5: {@code VertxTestContext}, {@code Checkpoint}).
 */
@ExtendWith(VertxExtension.class)
@Timeout(180)
class WorkQueueBoundTest {
    private static final int BURST = 200;

    /** In a field, not only in the lambdas: vertx-junit5 warns that an unreachable client's pool may be closed mid-test. */
    private WebClient client;

    @Test
    void aFullQueueAnswers503(Vertx vertx, VertxTestContext ctx) throws Throwable {
        try (LocalCluster c = new LocalCluster(vertx, 2, 2).queueCapacity(4).start()) {
            client = WebClient.create(vertx, new WebClientOptions(), new PoolOptions().setHttp1MaxSize(BURST));
            AtomicInteger created = new AtomicInteger(), busy = new AtomicInteger();
            Checkpoint answered = ctx.checkpoint(BURST);
            for (int i = 0; i < BURST; i++) {
                client.put(c.leaderPort, "127.0.0.1", "/").addQueryParam("key", "burst" + i).addQueryParam("val", "v").send()
                        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
                            if (r.statusCode() == 201) {
                                created.incrementAndGet();
                            } else {
                                assertEquals(503, r.statusCode(), r.bodyAsString());
                                assertEquals(Errors.UNABLE, r.bodyAsString());
                                busy.incrementAndGet();
                            }
                            answered.flag();
                        })));
            }
            assertTrue(ctx.awaitCompletion(60, TimeUnit.SECONDS), "every request of the burst answered");
            if (ctx.failed()) throw ctx.causeOfFailure();
            System.out.println("burst of " + BURST + ": " + created + " written, " + busy + " refused with 503");
            assertTrue(created.get() >= 4, "the queue admits work: " + created);
            assertTrue(busy.get() > 0, "and refuses what does not fit: " + busy);
        }
    }
}
