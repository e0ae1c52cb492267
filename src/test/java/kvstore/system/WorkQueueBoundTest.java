package kvstore.system;

import kvstore.core.Errors;
import kvstore.testing.LocalCluster;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The work queue is bounded (issue "The whole system", SPEC.md section 2): with room for 4
 * operations, a burst of 200 concurrent writes gets some 201s and, for the rest, 503
 * {@code error: unable to process request} at once, never a queue that grows without limit.
 */
class WorkQueueBoundTest {
    @Test
    void aFullQueueAnswers503() throws Exception {
        try (LocalCluster c = new LocalCluster(2, 2).queueCapacity(4).start()) {
            HttpClient http = HttpClient.newBuilder().build();
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                HttpRequest req = HttpRequest.newBuilder(URI.create(c.leader("/?key=burst" + i + "&val=v"))).PUT(HttpRequest.BodyPublishers.noBody()).build();
                all.add(http.sendAsync(req, HttpResponse.BodyHandlers.ofString()));
            }
            int created = 0, busy = 0;
            for (CompletableFuture<HttpResponse<String>> f : all) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() == 201) created++;
                else {
                    assertEquals(503, r.statusCode(), r.body());
                    assertEquals(Errors.UNABLE, r.body());
                    busy++;
                }
            }
            System.out.println("burst of 200: " + created + " written, " + busy + " refused with 503");
            assertTrue(created >= 4, "the queue admits work: " + created);
            assertTrue(busy > 0, "and refuses what does not fit: " + busy);
        }
    }
}
