package kvstore.it;

import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.JarCluster;
import kvstore.testing.JarClusterMode;
import kvstore.testing.JarNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Grey failures on the real jar (SPEC.md section 5, PROTOCOL.md "Deadlines" and "Node
 * identity"): a follower that is paused rather than dead, a follower back on an empty disk
 * before anyone noticed it left, and every replica of a key unreachable just after the leader
 * decided to commit it. Each was seen to fail on the code before the deadlines and the identity
 * on every message (commit 865e8ec): the paused follower cost its keys 3-6 s per request, the
 * wiped one answered "no key" for a key that exists, and the stalled replicas made the leader
 * wait without a bound.
 */
class GreyFailuresIT {
    @TempDir
    Path dir;

    /** One answered request: which key set it was for, what it was, how long it took. */
    private record Sample(boolean victimKey, boolean write, int status, long startNanos, long millis) {}

    /**
     * A follower paused with SIGSTOP for 10 s under load costs only its own keys: requests for
     * them are answered within 2 s each (reads from the other replica, writes refused), and the
     * p99 of every other key stays within 2x its p99 before the pause (or 50 ms more).
     */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aPausedFollowerCostsOnlyItsOwnKeys() throws Exception {
        long seed = Long.getLong("kvstore.seed", System.nanoTime());
        System.out.println("GreyFailuresIT seed=" + seed);
        try (JarCluster c = new JarCluster(dir, 3, 2, "--heal-after", "0").start()) {
            int victim = 0;
            List<String> mine = new ArrayList<>(), others = new ArrayList<>();
            for (int i = 0; mine.size() < 20 || others.size() < 20; i++) {
                String k = "k" + i;
                assertEquals(201, Http.put(c.leader("/?key=" + k + "&val=v0")).status());
                (c.replicasOf(k).contains(victim) ? mine : others).add(k);
            }
            ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> load = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Random rnd = new Random(seed + t);
                Thread th = new Thread(() -> {
                    while (!stop.get()) {
                        boolean victimKey = rnd.nextBoolean();
                        List<String> keys = victimKey ? mine : others;
                        String k = keys.get(rnd.nextInt(keys.size()));
                        boolean write = rnd.nextInt(4) == 0;
                        long t0 = System.nanoTime();
                        Http.Response r = write ? Http.put(c.leader("/?key=" + k + "&val=x" + rnd.nextInt(1000))) : Http.get(c.leader("/?key=" + k));
                        samples.add(new Sample(victimKey, write, r.status(), t0, (System.nanoTime() - t0) / 1_000_000));
                    }
                });
                load.add(th);
                th.start();
            }
            try {
                // The undisturbed baseline: enough answered requests of other keys to take a p99 from.
                Await.until("a baseline of 500 requests of other keys", Duration.ofSeconds(120),
                        () -> samples.stream().filter(x -> !x.victimKey()).count() >= 500);
                c.followerNode(victim).signal("STOP");
                // Counted from once the signal was sent: a request begun before it may still be answered.
                long pausedAt = System.nanoTime();
                System.out.println("paused follower " + victim + " at " + java.time.LocalTime.now());
                // Paused long enough that its keys were asked for many times and other keys had a
                // p99's worth of requests (and at least 5 s: past the checks' own detection).
                try {
                    Await.until("500 requests of each kind during the pause, for 5 s or more", Duration.ofSeconds(120), () -> {
                        long mineNow = samples.stream().filter(x -> x.victimKey() && x.startNanos() >= pausedAt).count();
                        long othersNow = samples.stream().filter(x -> !x.victimKey() && x.startNanos() >= pausedAt).count();
                        return mineNow >= 500 && othersNow >= 500 && System.nanoTime() - pausedAt >= 5_000_000_000L;
                    });
                } catch (AssertionError e) {
                    // Say where the time went: how many of each kind were answered, how slowly, and every node's log.
                    System.out.println("paused follower: the wait timed out; answered during the pause: " + describe(samples, pausedAt, true)
                            + " for its keys, " + describe(samples, pausedAt, false) + " for others");
                    printLogs(c);
                    throw e;
                }
                long resumedAt = System.nanoTime();
                c.followerNode(victim).signal("CONT");
                stop.set(true);
                for (Thread th : load) th.join(60_000);

                List<Sample> all = new ArrayList<>(samples);
                List<Long> before = latencies(all, s -> !s.victimKey() && s.startNanos() < pausedAt);
                List<Long> during = latencies(all, s -> !s.victimKey() && s.startNanos() >= pausedAt && s.startNanos() < resumedAt);
                List<Sample> victimDuring = all.stream().filter(s -> s.victimKey() && s.startNanos() >= pausedAt && s.startNanos() < resumedAt).toList();
                long p99Before = p99(before), p99During = p99(during);
                long worstVictim = victimDuring.stream().mapToLong(Sample::millis).max().orElse(0);
                long readsOk = victimDuring.stream().filter(s -> !s.write() && s.status() == 200).count();
                long writesRefused = victimDuring.stream().filter(s -> s.write() && s.status() == 500).count();
                System.out.printf("paused follower: other keys p99 %d ms before, %d ms during (%d and %d requests); its keys: %d requests,"
                                + " slowest %d ms, %d reads answered, %d writes refused%n", p99Before, p99During, before.size(), during.size(),
                        victimDuring.size(), worstVictim, readsOk, writesRefused);
                // The slowest requests for its keys, with when each began (ms after the pause) and what it got:
                // a bound that fails says here which kind of request waited, and the nodes' logs say why.
                String slowest = victimDuring.stream().sorted(Comparator.comparingLong(Sample::millis).reversed()).limit(5)
                        .map(s -> (s.write() ? "PUT" : "GET") + " at +" + (s.startNanos() - pausedAt) / 1_000_000 + " ms: "
                                + s.status() + " after " + s.millis() + " ms")
                        .reduce((a, b) -> a + "; " + b).orElse("none");
                System.out.println("paused follower: slowest requests for its keys: " + slowest);
                if (worstVictim > 2_000) printLogs(c);
                assertTrue(before.size() > 100 && during.size() > 100, "the load ran");
                assertTrue(p99During <= Math.max(2 * p99Before, p99Before + 50), "other keys keep their latency: p99 " + p99Before
                        + " ms before, " + p99During + " ms during the pause");
                assertTrue(worstVictim <= 2_000, "each request for its keys is answered within 2 s: slowest " + worstVictim + " ms");
                for (Sample s : victimDuring) {
                    if (s.write()) assertEquals(500, s.status(), "a write of its keys is refused while it is paused");
                    else assertEquals(200, s.status(), "a read of its keys is served by the other replica");
                }
                assertTrue(readsOk > 10 && writesRefused > 0, "its keys were asked for");
                // Marking it down once threw inside the leader (a ConcurrentModificationException
                // while failing its messages), and the coordinator never heard it was down.
                String leaderLog = c.leaderNode().stdout() + c.leaderNode().stderr();
                assertFalse(leaderLog.contains("Unhandled exception") || leaderLog.contains(" ERROR "),
                        "the leader logged an error while the follower was paused:\n" + leaderLog);
            } finally {
                stop.set(true);
                c.followerNode(victim).signal("CONT");
            }
            c.awaitFollowerUp(victim);
            Await.until("writes of its keys work again", Duration.ofSeconds(30),
                    () -> Http.put(c.leader("/?key=" + mine.get(0) + "&val=after")).status() == 201);
        }
    }

    private static void printLogs(JarCluster c) {
        System.out.println("leader log:\n" + c.leaderNode().stdout() + c.leaderNode().stderr());
        for (int i = 0; i < 3; i++) System.out.println("follower " + i + " log:\n" + c.followerNode(i).stdout() + c.followerNode(i).stderr());
    }

    /** The requests of one kind begun since {@code from}: how many, by status, and the slowest. */
    private static String describe(ConcurrentLinkedQueue<Sample> samples, long from, boolean victimKey) {
        List<Sample> kind = samples.stream().filter(s -> s.victimKey() == victimKey && s.startNanos() >= from).toList();
        Map<Integer, Long> byStatus = new java.util.TreeMap<>();
        for (Sample s : kind) byStatus.merge(s.status(), 1L, Long::sum);
        return kind.size() + " " + byStatus + ", slowest " + kind.stream().mapToLong(Sample::millis).max().orElse(0) + " ms";
    }

    private static List<Long> latencies(List<Sample> all, java.util.function.Predicate<Sample> which) {
        List<Long> out = new ArrayList<>();
        for (Sample s : all) if (which.test(s)) out.add(s.millis());
        Collections.sort(out);
        return out;
    }

    private static long p99(List<Long> sorted) {
        return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1));
    }

    /**
     * A follower restarted at once on an emptied data directory (another identity at the same
     * address), twenty times, while clients read its keys through the leader: not one answer is
     * "no key" or a wrong value. With automatic healing off it stays refused (identity mismatch
     * in the leader's status) and its keys are served by their other replica.
     */
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void aWipedFollowerNeverAnswersForDataItLost() throws Exception {
        try (JarCluster c = new JarCluster(dir, 3, 2, "--heal-after", "0").start()) {
            int victim = 1;
            List<String> mine = new ArrayList<>();
            for (int i = 0; mine.size() < 30; i++) {
                String k = "w" + i;
                assertEquals(201, Http.put(c.leader("/?key=" + k + "&val=value-" + k)).status());
                if (c.replicasOf(k).contains(victim)) mine.add(k);
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger reads = new AtomicInteger();
            ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    int n = id;
                    while (!stop.get()) {
                        String k = mine.get(n++ % mine.size());
                        Http.Response r = Http.get(c.leader("/?key=" + k));
                        reads.incrementAndGet();
                        if (r.status() == 200 && !r.body().equals("value-" + k)) wrong.add(k + " -> " + r.body());
                        if (r.status() == 500 && Errors.NO_KEY.equals(r.body())) wrong.add(k + " -> " + r.body());
                    }
                });
                readers.add(th);
                th.start();
            }
            try {
                for (int round = 0; round < 20; round++) {
                    c.followerNode(victim).kill9();
                    wipe(c.dir.resolve("follower-" + victim));
                    JarNode back = c.startFollower(victim, Map.of());
                    back.awaitOutput("registration with leader", Duration.ofSeconds(60)); // refused: identity mismatch
                }
                Await.until("the leader says why it refuses it", Duration.ofSeconds(30),
                        () -> Http.get(c.leader("/api/status")).body().contains("identity mismatch"));
            } finally {
                stop.set(true);
                for (Thread th : readers) th.join(60_000);
            }
            System.out.println("wiped follower, 20 restarts: " + reads.get() + " reads of its keys, " + wrong.size() + " wrong");
            assertTrue(reads.get() > 200, "reads ran: " + reads.get());
            assertEquals(List.of(), new ArrayList<>(wrong), "no read of a wiped follower's keys is answered from its empty disk");
        }
    }

    private static void wipe(Path d) throws Exception {
        if (!Files.exists(d)) return;
        try (Stream<Path> files = Files.walk(d)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /**
     * Cluster mode: the replica of a key (redundancy 1) stops answering for 9 s right after it
     * voted yes, so the leader decides commit but no replica acknowledges it before the
     * operation's 5 s deadline. The client gets 201 or no answer at all — never an error — and once
     * the replica answers again the write is there. (In cluster mode a commit is answered only
     * once a current replica holds it, so that a standby would find it.) The other two followers
     * answer throughout: the leader keeps a majority, so it stays in office (SPEC.md section 7:
     * a leader without a majority for 5 s would step down, and its undelivered decision would be
     * a new leader's to settle).
     */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aCommitWhoseReplicasAllStallIsNeverAnsweredWithAnError() throws Exception {
        try (JarClusterMode c = new JarClusterMode(dir, 1, 3, 1)) {
            c.startLeader(0, Map.of());
            c.startFollower(0, Map.of("KVSTORE_FAULT", "follower.after-vote-sent:1:stall=9000"));
            c.startFollower(1, Map.of());
            c.startFollower(2, Map.of());
            c.awaitActive(0, Duration.ofSeconds(120));
            String key = null;
            for (int i = 0; key == null && i < 1000; i++) if (c.replicasOf(0, "stalled" + i).equals(List.of(0))) key = "stalled" + i;
            assertTrue(key != null, "a key whose only replica is follower 0");
            long t0 = System.nanoTime();
            Http.Response r = Http.put(c.leaderUrl(0, "/?key=" + key + "&val=decided"));
            long took = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("commit with every replica stalled: answered " + r.status() + " after " + took + " ms");
            assertTrue(r.status() == 201 || r.status() == -1, "201 or a closed connection, never an error: " + r.status() + " " + r.body());
            assertTrue(took < 15_000, "answered (or closed) by the operation's deadline: " + took + " ms");
            String k = key;
            Await.until("the decided write is there once the replica answers", Duration.ofSeconds(60),
                    () -> "decided".equals(Http.get(c.leaderUrl(0, "/?key=" + k)).body()));
            Await.until("on the replica", Duration.ofSeconds(30), () -> "decided".equals(c.valuesOnFollowers(k).get(0)));
            assertTrue(!c.leader(0).stdout().contains("Exception") && !c.leader(0).stderr().contains("Exception"),
                    "no exception in the leader's log:\n" + c.leader(0).stdout());
        }
    }
}
