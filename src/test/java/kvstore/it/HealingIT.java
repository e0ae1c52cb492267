package kvstore.it;

import io.vertx.core.json.JsonObject;
import kvstore.lincheck.LinearizabilityChecker;
import kvstore.testing.Await;
import kvstore.testing.ClusterAudit;
import kvstore.testing.Http;
import kvstore.testing.JarCluster;
import kvstore.testing.JarNode;
import kvstore.testing.Workload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster that heals and changes shape (SPEC.md section 10), on the real jar, under load.
 * After each change: the clients' history is linearizable (so no acknowledged write was lost and
 * no deleted key came back, final reads included), every key is on every replica the current
 * ring gives it with the value the leader reads, and each follower holds exactly its keys.
 */
class HealingIT {
    @TempDir
    Path dir;

    static List<String> keys(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add("key" + i);
        return out;
    }

    static void checkAfter(JarCluster c, Workload w, List<String> keys) throws Exception {
        w.close();
        ClusterAudit.awaitSettled(c.leaderUrl(), Duration.ofSeconds(90));
        Map<String, String> finals = w.finalReads(c.leaderUrl(), keys);
        LinearizabilityChecker.Result r = LinearizabilityChecker.check(w.history());
        assertTrue(r.ok(), "not linearizable: " + r.failures());
        ClusterAudit.check(c.leaderUrl(), finals);
        System.out.println("  history: " + w.history().size() + " operations, " + w.acked.get() + " writes acknowledged, "
                + w.refused.get() + " refused, " + w.unknown.get() + " unanswered");
    }

    /** kill -9 of a follower under write load: writes to every key succeed again within heal-after + 2 s. */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aKilledFollowerIsEvictedAndEveryKeyIsWritableWithinHealAfterPlusTwoSeconds() throws Exception {
        long seed = Long.getLong("kvstore.seed", System.nanoTime());
        System.out.println("HealingIT seed=" + seed);
        int healAfter = 4;
        List<String> keys = keys(40);
        try (JarCluster c = new JarCluster(dir, 3, 2, "--heal-after", String.valueOf(healAfter)).start()) {
            Workload w = new Workload(c.leaderUrl(), keys, 4, 0.5, seed).preload(c.leaderUrl(), keys, "first").start();
            Await.until("load before the kill", Duration.ofSeconds(60), () -> w.acked.get() > 50);
            long killed = System.nanoTime();
            c.followerNode(0).kill9();
            long deadline = killed + (healAfter + 2) * 1_000_000_000L;
            Await.until("every key writable again", Duration.ofSeconds(healAfter + 30), () -> {
                for (String k : keys) if (w.put(c.leaderUrl(), k, "probe") != 201) return false;
                return true;
            });
            long writable = System.nanoTime();
            System.out.printf("follower killed: every key writable again after %d ms (heal-after %d s)%n",
                    (writable - killed) / 1_000_000, healAfter);
            assertTrue(writable <= deadline, "within heal-after + 2 s: " + (writable - killed) / 1_000_000 + " ms");
            long refusedLate = w.refusedBetween(deadline, System.nanoTime());
            Await.until("more load after the heal", Duration.ofSeconds(60), () -> w.acked.get() > 300);
            assertEquals(0, refusedLate + w.refusedBetween(writable, System.nanoTime()), "no write refused once it healed");
            checkAfter(c, w, keys);
            JsonObject members = new JsonObject(Http.get(c.leader("/api/members")).body());
            assertEquals(2, members.getJsonArray("members").size());
            assertEquals(c.followerPorts.get(0), members.getJsonArray("evicted").getJsonObject(0).getInteger("port"));
        }
    }

    /**
     * A follower restarted on an emptied data directory: refused (another identity), then evicted
     * after heal-after, then re-seeded as a new member, then serving — and not one read of its keys
     * is answered wrongly on the way.
     */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aWipedFollowerIsRefusedThenEvictedThenReseededThenServes() throws Exception {
        List<String> keys = keys(60);
        try (JarCluster c = new JarCluster(dir, 3, 2, "--heal-after", "3").start()) {
            for (String k : keys) assertEquals(201, Http.put(c.leader("/?key=" + k + "&val=value-" + k)).status());
            int victim = 1;
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger reads = new AtomicInteger();
            ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
            Thread reader = new Thread(() -> {
                int n = 0;
                while (!stop.get()) {
                    String k = keys.get(n++ % keys.size());
                    Http.Response r = Http.get(c.leader("/?key=" + k));
                    reads.incrementAndGet();
                    if (r.status() != 200 || !r.body().equals("value-" + k)) wrong.add(k + " -> " + r.status() + " " + r.body());
                }
            });
            reader.start();
            List<String> seen = new ArrayList<>();
            try {
                c.followerNode(victim).kill9();
                wipe(c.dir.resolve("follower-" + victim));
                JarNode back = c.startFollower(victim, Map.of());
                String address = "127.0.0.1:" + c.followerPorts.get(victim);
                Await.until("refused: identity mismatch", Duration.ofSeconds(30), () -> status(c).contains("identity mismatch"));
                seen.add("refused");
                Await.until("its old identity evicted", Duration.ofSeconds(30), () -> {
                    String m = Http.get(c.leader("/api/members")).body();
                    return m.contains("\"evicted\":[{") || m.contains(address) && m.contains("joining");
                });
                seen.add("evicted");
                Await.until("a member again", Duration.ofSeconds(30), () -> memberState(c, c.followerPorts.get(victim)) != null);
                seen.add("joined");
                Await.until("serving", Duration.ofSeconds(60), () -> "up".equals(memberState(c, c.followerPorts.get(victim))));
                seen.add("up");
                assertTrue(back.alive());
                ClusterAudit.awaitSettled(c.leaderUrl(), Duration.ofSeconds(60));
            } finally {
                stop.set(true);
                reader.join(60_000);
            }
            System.out.println("wiped follower: " + seen + "; " + reads.get() + " reads, " + wrong.size() + " wrong");
            assertEquals(List.of("refused", "evicted", "joined", "up"), seen);
            assertEquals(List.of(), new ArrayList<>(wrong));
            Map<String, String> finals = new java.util.HashMap<>();
            for (String k : keys) finals.put(k, "value-" + k);
            ClusterAudit.check(c.leaderUrl(), finals);
        }
    }

    /** A follower added to a running cluster under load, then one drained, then the capacity shrunk. */
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void addThenDrainThenShrinkUnderLoad() throws Exception {
        long seed = Long.getLong("kvstore.seed", System.nanoTime());
        List<String> keys = keys(200);
        try (JarCluster c = new JarCluster(dir, 3, 2).start()) {
            Workload w = new Workload(c.leaderUrl(), keys, 4, 0.4, seed).preload(c.leaderUrl(), keys, "first").start();
            Await.until("load", Duration.ofSeconds(60), () -> w.acked.get() > 50);

            assertEquals(200, Http.post(c.leader("/api/members/capacity?n=4")).status());
            int added = c.addFollower();
            c.startFollower(added, Map.of());
            Await.until("the new follower joined and serves", Duration.ofSeconds(90),
                    () -> "up".equals(memberState(c, c.followerPorts.get(added))) && !rebalancing(c));
            System.out.println("joined under load");

            Http.Response drain = Http.post(c.leader("/api/members/drain?follower=127.0.0.1:" + c.followerPorts.get(0)));
            assertEquals(202, drain.status(), drain.body());
            Await.until("drained and evicted", Duration.ofSeconds(90), () -> memberState(c, c.followerPorts.get(0)) == null && !rebalancing(c));
            System.out.println("drained under load");
            Http.Response tooSmall = Http.post(c.leader("/api/members/capacity?n=2"));
            assertEquals(500, tooSmall.status(), "below the members it has");
            assertEquals(200, Http.post(c.leader("/api/members/capacity?n=3")).status());
            checkAfter(c, w, keys);
            assertEquals(3, new JsonObject(Http.get(c.leader("/api/members")).body()).getInteger("capacity"));
        }
    }

    /** The leader killed with -9 in the middle of a move, restarted: the move completes. */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aMoveSurvivesALeaderRestart() throws Exception {
        List<String> keys = keys(3_000);
        try (JarCluster c = new JarCluster(dir, 3, 2, "--copy-rate", "1").start()) {
            String big = "x".repeat(900);
            for (String k : keys) assertEquals(201, Http.put(c.leader("/?key=" + k + "&val=" + big)).status());
            assertEquals(200, Http.post(c.leader("/api/members/capacity?n=4")).status());
            int added = c.addFollower();
            c.startFollower(added, Map.of());
            Await.until("copying", Duration.ofSeconds(60), () -> {
                JsonObject s = new JsonObject(Http.get(c.leader("/api/status")).body());
                JsonObject r = s.getJsonObject("rebalancing");
                return r != null && r.getLong("copyRound", 0L) > 0 && r.getLong("copied", 0L) > 0;
            });
            c.leaderNode().kill9();
            c.startLeader(Map.of());
            c.awaitReady();
            Await.until("the move completed after the restart", Duration.ofSeconds(120),
                    () -> "up".equals(memberState(c, c.followerPorts.get(added))) && !rebalancing(c));
            ClusterAudit.awaitSettled(c.leaderUrl(), Duration.ofSeconds(60));
            Map<String, String> finals = new java.util.HashMap<>();
            for (String k : keys) finals.put(k, big);
            ClusterAudit.check(c.leaderUrl(), finals);
        }
    }

    static String status(JarCluster c) {
        return Http.get(c.leader("/api/status")).body();
    }

    static boolean rebalancing(JarCluster c) {
        Http.Response r = Http.get(c.leader("/api/members"));
        return r.status() != 200 || new JsonObject(r.body()).getValue("rebalancing") != null;
    }

    /** A member's state in the leader's /api/members, or null when it is not a member. */
    static String memberState(JarCluster c, int port) {
        Http.Response r = Http.get(c.leader("/api/members"));
        if (r.status() != 200) return null;
        for (Object o : new JsonObject(r.body()).getJsonArray("members")) {
            JsonObject m = (JsonObject) o;
            if (m.getInteger("port") == port) return m.getString("state");
        }
        return null;
    }

    static void wipe(Path d) throws Exception {
        if (!Files.exists(d)) return;
        try (Stream<Path> files = Files.walk(d)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
