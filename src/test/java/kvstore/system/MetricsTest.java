package kvstore.system;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.LocalCluster;
import kvstore.testing.Scrape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /metrics} (SPEC.md section 2) after known traffic, on a leader and three followers
 * (redundancy 2) sharing one Vertx, as in the embedded default. Method: scrape every node,
 * send writes and reads whose effect on each node is known from placement, scrape again and
 * compare the differences with exact expected amounts; then check that no key reached a label
 * and that no node shows another node's meters.
 */
@ExtendWith(VertxExtension.class)
@Timeout(180)
class MetricsTest {
    private static final String REQUESTS = "kvstore_requests_total";

    @Test
    void countersMoveByExactlyTheTrafficSent(Vertx vertx) throws Exception {
        try (LocalCluster c = new LocalCluster(vertx, 3, 2).start()) {
            String leader = c.leader("");
            List<String> keys = List.of("label-probe-a", "label-probe-b", "label-probe-c", "label-probe-d", "label-probe-e");
            int[] held = new int[3];
            for (String k : keys) {
                JsonArray replicas = new JsonObject(Http.get(c.leader("/api/placement?key=" + k)).body()).getJsonArray("replicas");
                for (int i = 0; i < replicas.size(); i++) held[c.followerIndex(replicas.getJsonObject(i).getInteger("port"))]++;
            }
            // A follower records a new leader epoch in its log when it first sees it (a check or a
            // prepare): wait until all have, so that the log counts below hold only this traffic.
            double epoch = Scrape.get(leader).value("kvstore_epoch");
            for (int i = 0; i < 3; i++) {
                String f = c.follower(i, "");
                Await.until("follower sees epoch " + epoch, Duration.ofSeconds(10), () -> Scrape.get(f).value("kvstore_epoch") == epoch);
            }
            Scrape l0 = Scrape.get(leader);
            List<Scrape> f0 = new ArrayList<>();
            for (int i = 0; i < 3; i++) f0.add(Scrape.get(c.follower(i, "")));

            for (String k : keys) assertEquals(201, Http.put(c.leader("/?key=" + k + "&val=v")).status());
            // Phase 2 runs after the 201: wait until every replica has acknowledged its commits.
            Await.until("every commit acknowledged", Duration.ofSeconds(20), () ->
                    Scrape.get(leader).value("kvstore_tpc_phase2_answers_total", "result", "ack")
                            - l0.value("kvstore_tpc_phase2_answers_total", "result", "ack") == 10
                            && Scrape.get(leader).value("kvstore_log_records_total") - l0.value("kvstore_log_records_total") == 10);

            Scrape l1 = Scrape.get(leader);
            assertEquals(5, delta(l0, l1, REQUESTS, "type", "put", "status", "201"), "PUT/201");
            assertEquals(5, delta(l0, l1, "kvstore_tpc_commits_total"));
            assertEquals(0, delta(l0, l1, "kvstore_tpc_aborts_total"));
            assertEquals(5, delta(l0, l1, "kvstore_request_seconds_count", "type", "put"));
            assertEquals(5, delta(l0, l1, "kvstore_tpc_phase_seconds_count", "phase", "prepare"), "one prepare round per write");
            assertEquals(5, delta(l0, l1, "kvstore_tpc_phase_seconds_count", "phase", "decision_fsync"));
            assertEquals(10, delta(l0, l1, "kvstore_tpc_phase2_answers_total", "result", "ack"), "one commit per replica");
            double answers = 0;
            for (String r : new String[] {"ack", "retry", "refused", "stale"}) answers += delta(l0, l1, "kvstore_tpc_phase2_answers_total", "result", r);
            assertEquals(answers, delta(l0, l1, "kvstore_tpc_phase_seconds_count", "phase", "phase2"),
                    "one phase-2 latency per answered message (a retry under load is a message too)");
            assertEquals(20, delta(l0, l1, "kvstore_follower_messages_total"), "a prepare and a commit to each of two replicas, per write");
            double batches = delta(l0, l1, "kvstore_follower_batches_total");
            assertTrue(batches >= 1 && batches <= 20, "batches carrying those 20 messages: " + batches);
            assertEquals(0, l1.value("kvstore_tpc_pending_phase2"));
            assertEquals(0, l1.value("kvstore_queue_depth"));
            assertEquals(3, l1.value("kvstore_followers_up"));
            assertEquals(1, l1.value("kvstore_ready"));
            assertTrue(delta(l0, l1, "kvstore_log_fsyncs_total") >= 1, "the decisions were fsynced");
            assertTrue(l1.value("kvstore_log_bytes") > l0.value("kvstore_log_bytes"));

            for (int i = 0; i < 3; i++) {
                Scrape f1 = Scrape.get(c.follower(i, ""));
                String who = "follower " + i + " holds " + held[i] + " of the keys";
                assertEquals(held[i], delta(f0.get(i), f1, REQUESTS, "type", "prepare", "status", "202"), who);
                assertEquals(held[i], delta(f0.get(i), f1, REQUESTS, "type", "commit", "status", "204"), who);
                assertEquals(2 * held[i], delta(f0.get(i), f1, "kvstore_log_records_total"), who + ": a PREPARE and a COMMIT each");
                assertEquals(held[i], f1.value("kvstore_keys"), who);
                assertEquals(0, f1.value("kvstore_tpc_prepared"));
                if (held[i] > 0) assertTrue(delta(f0.get(i), f1, "kvstore_log_fsyncs_total") >= 1, who);
                f0.set(i, f1);
            }

            // Reads and a refused write: two hits, a miss, and a DELETE of an absent key (both replicas vote no).
            assertEquals(200, Http.get(c.leader("/?key=label-probe-a")).status());
            assertEquals(200, Http.get(c.leader("/?key=label-probe-b")).status());
            assertEquals(Errors.NO_KEY, Http.get(c.leader("/?key=label-probe-missing")).body());
            assertEquals(Errors.NO_KEY, Http.delete(c.leader("/?key=label-probe-missing")).body());
            assertEquals(Errors.INVALID_REQUEST, Http.put(c.leader("/?key=label-probe-x")).body());
            Scrape l2 = Scrape.get(leader);
            assertEquals(2, delta(l1, l2, REQUESTS, "type", "get", "status", "200"));
            assertEquals(1, delta(l1, l2, REQUESTS, "type", "get", "status", "500"));
            assertEquals(1, delta(l1, l2, REQUESTS, "type", "delete", "status", "500"));
            assertEquals(1, delta(l1, l2, REQUESTS, "type", "put", "status", "500"), "an invalid request is counted too");
            assertEquals(1, delta(l1, l2, "kvstore_tpc_aborts_total"));
            assertEquals(0, delta(l1, l2, "kvstore_tpc_commits_total"));
            double reads = 0, misses = 0, noVotes = 0;
            for (int i = 0; i < 3; i++) {
                Scrape f2 = Scrape.get(c.follower(i, ""));
                reads += delta(f0.get(i), f2, REQUESTS, "type", "read", "status", "200");
                misses += delta(f0.get(i), f2, REQUESTS, "type", "read", "status", "500");
                noVotes += delta(f0.get(i), f2, REQUESTS, "type", "prepare", "status", "500");
                assertEquals(0, delta(f0.get(i), f2, REQUESTS, "type", "commit", "status", "204"));
            }
            assertEquals(2, reads, "each hit is read from one replica");
            assertEquals(1, misses);
            assertEquals(2, noVotes, "both replicas of the absent key vote no");

            // No key in any label, and each node only its own meters.
            String leaderText = Scrape.get(leader).text;
            assertFalse(leaderText.contains("label-probe"), "a key name reached the leader's labels");
            assertFalse(leaderText.contains("type=\"prepare\""), "the leader shows a follower's meters");
            for (int i = 0; i < 3; i++) {
                String text = Scrape.get(c.follower(i, "")).text;
                assertFalse(text.contains("label-probe"), "a key name reached a follower's labels");
                assertFalse(text.contains("kvstore_tpc_commits_total"), "a follower shows the leader's meters");
                assertFalse(text.contains("type=\"put\""), "a follower shows the leader's meters");
            }
        }
    }

    @Test
    void prometheusTextOnTheLeaderAndBehindTheSecretOnFollowers(Vertx vertx) throws Exception {
        try (LocalCluster c = new LocalCluster(vertx, 1, 1, "metrics-secret").start()) {
            Http.Response r = Http.get(c.leader("/metrics"));
            assertEquals(200, r.status());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", r.header("content-type"));
            assertTrue(r.body().contains("# TYPE kvstore_requests_total counter"), r.body());
            assertFalse(r.body().contains("metrics-secret"));
            Scrape jvm = Scrape.get(c.leader(""));
            assertTrue(jvm.text.contains("jvm_memory_used_bytes{area=\"heap\""), "heap in use: " + jvm.text);
            assertTrue(jvm.value("jvm_threads_live_threads") > 0);
            assertTrue(jvm.value("process_uptime_seconds") > 0);
            assertTrue(jvm.value("process_files_open_files") > 0);
            assertTrue(jvm.text.contains("# TYPE process_cpu_usage gauge"));
            assertEquals(500, Http.post(c.leader("/metrics")).status(), "only GET");

            Http.Response refused = Http.get(c.follower(0, "/metrics"));
            assertEquals(401, refused.status(), "a follower's figures need the cluster secret");
            assertEquals(Errors.UNAUTHORIZED, refused.body());
            Http.Response f = Http.get(c.follower(0, "/metrics"), "X-KV-Secret", "metrics-secret");
            assertEquals(200, f.status());
            assertTrue(f.body().contains("kvstore_keys"), f.body());
            assertTrue(f.body().contains("jvm_memory_used_bytes{area=\"heap\""), "a follower's page has the JVM's meters too");
            assertFalse(f.body().contains("metrics-secret"));
        }
    }

    private static double delta(Scrape before, Scrape after, String name, String... labels) {
        return after.value(name, labels) - before.value(name, labels);
    }
}
