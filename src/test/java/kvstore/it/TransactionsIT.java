package kvstore.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.JarCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 11 on the real jar: compare-and-set, retries that apply once, and transactions
 * across followers, with crashes.
 */
class TransactionsIT {
    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** POSTs a transaction; status -1 when there was no answer (a crash, a closed connection). */
    static Http.Response txn(String url, JsonObject body) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Http.Response(r.statusCode(), r.body(), r.headers().map());
        } catch (IOException e) {
            return new Http.Response(-1, "io: " + e, Map.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * A counter incremented by 8 concurrent clients, each reading the version and writing with
     * ifVersion, retrying on 412: it ends at exactly the number of increments that succeeded.
     */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aCasCounterCountsEverySuccessfulIncrementOnce() throws Exception {
        try (JarCluster c = new JarCluster(dir, 3, 2).start()) {
            assertEquals(201, Http.put(c.leader("/?key=counter&val=0&ifVersion=0")).status());
            assertEquals(412, Http.put(c.leader("/?key=counter&val=0&ifVersion=0")).status(), "only if absent");
            AtomicInteger successes = new AtomicInteger(), conflicts = new AtomicInteger();
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Thread t = new Thread(() -> {
                    for (int n = 0; n < 25; ) {
                        Http.Response g = Http.get(c.leader("/?key=counter"));
                        if (g.status() != 200) continue;
                        long v = Long.parseLong(g.header("X-KV-Version"));
                        int next = Integer.parseInt(g.body()) + 1;
                        Http.Response p = Http.put(c.leader("/?key=counter&val=" + next + "&ifVersion=" + v));
                        if (p.status() == 201) {
                            successes.incrementAndGet();
                            n++;
                        } else if (p.status() == 412) {
                            assertEquals(Errors.VERSION_MISMATCH, p.body());
                            assertTrue(Long.parseLong(p.header("X-KV-Version")) > v, "the current version comes with the 412");
                            conflicts.incrementAndGet();
                        }
                    }
                });
                clients.add(t);
                t.start();
            }
            for (Thread t : clients) t.join(150_000);
            Http.Response end = Http.get(c.leader("/?key=counter"));
            System.out.println("CAS counter: " + successes.get() + " increments, " + conflicts.get() + " conflicts retried, value " + end.body());
            assertEquals(200, successes.get());
            assertEquals("200", end.body());
            assertTrue(conflicts.get() > 0, "the clients raced");
        }
    }

    /**
     * A rid retried after the leader was killed with -9 between its commit decision and its
     * answer: the retry gets the first outcome (201) and is not applied again — a write made in
     * between by someone else stays.
     */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aRetriedRidAfterALeaderKillIsAppliedOnce() throws Exception {
        try (JarCluster c = new JarCluster(dir, 2, 2).start()) {
            assertEquals(201, Http.put(c.leader("/?key=k&val=before")).status());
            c.leaderNode().term(Duration.ofSeconds(30));
            c.startLeader(Map.of("KVSTORE_FAULT", "leader.before-client-reply:1"));
            c.awaitReady();
            Http.Response lost = Http.put(c.leader("/?key=k&val=mine&rid=order-17"));
            assertEquals(-1, lost.status(), "the leader died before answering");
            c.startLeader(Map.of());
            c.awaitReady();
            Await.until("settled", Duration.ofSeconds(30), () -> "mine".equals(Http.get(c.leader("/?key=k")).body()));
            Http.Response q = Http.get(c.leader("/api/writes?rid=order-17"));
            assertEquals(200, q.status());
            JsonObject o = new JsonObject(q.body());
            assertEquals("committed", o.getString("state"));
            long version = o.getLong("version");
            assertEquals(201, Http.put(c.leader("/?key=k&val=theirs")).status());
            Http.Response retry = Http.put(c.leader("/?key=k&val=mine&rid=order-17"));
            assertEquals(201, retry.status(), "the first outcome");
            assertEquals("mine", retry.body());
            assertEquals(String.valueOf(version), retry.header("X-KV-Version"));
            assertEquals("theirs", Http.get(c.leader("/?key=k")).body(), "not applied again");
            assertEquals(500, Http.put(c.leader("/?key=k&val=other&rid=order-17")).status(), "the same rid with another request");
            assertEquals("unknown", new JsonObject(Http.get(c.leader("/api/writes?rid=never")).body()).getString("state"));
        }
    }

    /**
     * Bank transfers between accounts held by different followers, by concurrent clients, through
     * kill -9 of a follower and of the leader: at every instant the total is the same, as concurrent
     * read-only transactions over all accounts see it (no reader ever sees half a transfer).
     */
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void bankTransfersKeepTheTotalThroughCrashes() throws Exception {
        long seed = Long.getLong("kvstore.seed", System.nanoTime());
        System.out.println("TransactionsIT seed=" + seed);
        try (JarCluster c = new JarCluster(dir, 3, 2).start()) {
            List<String> accounts = new ArrayList<>();
            for (int i = 0; accounts.size() < 6; i++) accounts.add("acct" + i);
            for (String a : accounts) assertEquals(201, Http.put(c.leader("/?key=" + a + "&val=100")).status());
            int total = 600;
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong transfers = new AtomicLong(), audits = new AtomicLong();
            ConcurrentLinkedQueue<String> broken = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Random rnd = new Random(seed + t);
                Thread th = new Thread(() -> {
                    while (!stop.get()) {
                        String a = accounts.get(rnd.nextInt(accounts.size())), b = accounts.get(rnd.nextInt(accounts.size()));
                        if (a.equals(b)) continue;
                        JsonObject read = new JsonObject().put("then", new JsonArray()
                                .add(new JsonObject().put("op", "get").put("key", a)).add(new JsonObject().put("op", "get").put("key", b)));
                        Http.Response r = txn(c.leader("/txn"), read);
                        if (r.status() != 200) continue;
                        JsonArray res = new JsonObject(r.body()).getJsonArray("results");
                        int va = Integer.parseInt(res.getJsonObject(0).getString("val")), vb = Integer.parseInt(res.getJsonObject(1).getString("val"));
                        int x = 1 + rnd.nextInt(10);
                        JsonObject move = new JsonObject()
                                .put("if", new JsonArray().add(new JsonObject().put("key", a).put("version", res.getJsonObject(0).getLong("version")))
                                        .add(new JsonObject().put("key", b).put("version", res.getJsonObject(1).getLong("version"))))
                                .put("then", new JsonArray().add(new JsonObject().put("op", "put").put("key", a).put("val", String.valueOf(va - x)))
                                        .add(new JsonObject().put("op", "put").put("key", b).put("val", String.valueOf(vb + x))));
                        Http.Response m = txn(c.leader("/txn"), move);
                        if (m.status() == 200 && new JsonObject(m.body()).getBoolean("succeeded")) transfers.incrementAndGet();
                    }
                });
                threads.add(th);
            }
            for (int t = 0; t < 2; t++) {
                Thread auditor = new Thread(() -> {
                    JsonArray gets = new JsonArray();
                    for (String a : accounts) gets.add(new JsonObject().put("op", "get").put("key", a));
                    while (!stop.get()) {
                        Http.Response r = txn(c.leader("/txn"), new JsonObject().put("then", gets));
                        if (r.status() != 200) continue;
                        int sum = 0;
                        for (Object o : new JsonObject(r.body()).getJsonArray("results")) sum += Integer.parseInt(((JsonObject) o).getString("val"));
                        audits.incrementAndGet();
                        if (sum != total) broken.add("saw a total of " + sum + ": " + r.body());
                    }
                });
                threads.add(auditor);
            }
            for (Thread th : threads) th.start();
            try {
                Await.until("transfers", Duration.ofSeconds(60), () -> transfers.get() > 30);
                c.followerNode(1).kill9();
                c.startFollower(1, Map.of());
                c.awaitFollowerUp(1);
                long mid = transfers.get();
                Await.until("transfers after the follower's restart", Duration.ofSeconds(60), () -> transfers.get() > mid + 30);
                c.leaderNode().kill9();
                c.startLeader(Map.of());
                c.awaitReady();
                long later = transfers.get();
                Await.until("transfers after the leader's restart", Duration.ofSeconds(60), () -> transfers.get() > later + 30);
            } finally {
                stop.set(true);
                for (Thread th : threads) th.join(60_000);
            }
            c.awaitQuiet(Duration.ofSeconds(60));
            int sum = 0;
            for (String a : accounts) sum += Integer.parseInt(Http.get(c.leader("/?key=" + a)).body());
            System.out.println("bank: " + transfers.get() + " transfers, " + audits.get() + " audits, total " + sum);
            assertEquals(List.of(), new ArrayList<>(broken), "every audit saw the same total");
            assertEquals(total, sum);
            assertTrue(audits.get() > 20, "audits ran: " + audits.get());
        }
    }
}
