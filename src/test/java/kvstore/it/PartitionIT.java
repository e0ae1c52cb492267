package kvstore.it;

import kvstore.lincheck.LinearizabilityChecker;
import kvstore.lincheck.Operation;
import kvstore.testing.netlab.Chart;
import kvstore.testing.netlab.History;
import kvstore.testing.netlab.LabClient.Call;
import kvstore.testing.netlab.Netlab;
import kvstore.testing.netlab.Scenario;
import kvstore.testing.netlab.Scenario.Final;
import kvstore.testing.netlab.Scenario.Sample;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The partition tier (SPEC.md section 12, issue 15): the real jar in network namespaces
 * ({@code scripts/netlab.sh}, the lab's addresses and conf files), clients in the lab's
 * {@code client} namespace ({@code LabClient}: 12 clients, GET/PUT/DELETE on 6 hot keys, two on
 * each pair of followers, two clients on each key), and a nemesis that cuts links silently (nftables drops: timeouts, not
 * refusals) at planned times. After each run, with every fault healed:
 * <ol>
 *   <li>(a) the history is linearizable, per key (Wing-Gong-Lowe, {@code kvstore.lincheck});</li>
 *   <li>(b) no acknowledged write is lost and no deleted key comes back: the history followed by a
 *   read of every key through the leader is still linearizable (a write whose answer was lost
 *   may or may not have happened), and every replica of each key holds what the leader reads;</li>
 *   <li>(c) cluster mode: the old leader, isolated from the cluster, acknowledges nothing;</li>
 *   <li>the bounds of SPEC.md: writes to an unreachable follower's keys refused within 2 s each,
 *   their reads served by the other replica (section 5); a standby in office within 10 s, the
 *   cut-off leader answering 503 after 5 s, exactly one leader within 10 s of a heal (section 7).</li>
 * </ol>
 * Each run prints its seed, per fault how long writes to the affected keys were refused and how long
 * until everything was served again, and writes {@code target/partitions/SCENARIO.svg} (operations
 * per 100 ms by outcome, faults shaded) beside the history, monitor samples and final reads. All
 * checks are evaluated and printed before the test fails, so one broken bound hides nothing.
 *
 * <p>The tier needs root on Linux with {@code ip} and {@code nft} (CI runs as root; ./test.sh
 * installs nftables); elsewhere it is skipped with the reason. The four plain scenarios share one
 * lab (leader, 3 followers, client), checked quiet before each run and restarted if it is not; the
 * cluster scenario has its own. {@code @AfterAll} and a shutdown hook take every lab down, and a
 * lab left by a killed run is taken down by the next {@code up} (netlab.sh records what it made).
 *
 * <p>How they were seen to fail (2026-12-01):
 * <ul>
 *   <li>The checks themselves: {@code kvstore.testing.netlab.HistoryTest} (unit tier) gives them a
 *   lost write, a resurrected delete, a stale read and a refused write that took effect.</li>
 *   <li>A deliberately broken jar (a sloppy quorum: in {@code Coordinator.startWrite} the replicas
 *   that are down are dropped instead of the write being refused; built in a scratch clone, run
 *   with {@code -Dit.jar=...}): {@code leaderCutFromOneFollower} failed (a) and (b) on two keys:
 *   after the heal a GET read a value from before the cut, from f1, which had missed the writes
 *   acknowledged while it was marked down.</li>
 *   <li>Today's jar: every plain scenario fails the section 5 bound (a write to a cut-off
 *   follower's keys waits up to 8 to 9 s before its 500; the leader marks the follower down about
 *   9 s after the cut); the cluster scenario fails (a) and (b) (during the alternating takeovers
 *   after the heal a write answered 503 by the leader stepping down is then read back through
 *   the other leader: an error answer for a write that took effect, against section 5), the 503
 *   rule (the cut-off leader answers 500 and stays "ready"), and the one-leader rule (the two
 *   leaders take office from each other about once a second after the heal).</li>
 * </ul>
 * Run alone: {@code mvn -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=PartitionIT}
 * (replay a run with {@code -Dkvstore.seed=N}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PartitionIT {
    static final long SEED = Long.getLong("kvstore.seed", System.nanoTime());
    static final long SLACK_MS = 250; // the nemesis and the clients run as processes: their clocks are read a little apart

    private Netlab plain, cluster;
    private Thread hook;

    @BeforeAll
    void labs() {
        String why = Netlab.unavailableReason();
        Assumptions.assumeTrue(why == null, "the partition tier is skipped: " + why);
        plain = new Netlab(Path.of("target", "netlab", "plain"), "kvit-");
        cluster = new Netlab(Path.of("target", "netlab", "cluster"), "kvitc-");
        hook = new Thread(this::downAll, "netlab-down");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("PartitionIT seed=" + SEED);
    }

    @AfterAll
    void downAll() {
        try {
            if (plain != null) plain.down();
        } finally {
            if (cluster != null) cluster.down();
        }
        if (hook != null && Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down already
            }
        }
    }

    /** The shared plain lab, up and quiet (every follower up, nothing pending), restarted if it is not. */
    private Netlab plainLab() {
        if (plain.isUp() && quiet(plain, Duration.ofSeconds(30))) return plain;
        if (plain.isUp()) System.out.println("the lab is not quiet after the last scenario; starting it again:\n" + plain.status());
        plain.up(false, 3);
        assertTrue(quiet(plain, Duration.ofSeconds(60)), "a fresh lab is quiet");
        return plain;
    }

    private static boolean quiet(Netlab lab, Duration timeout) {
        try {
            Scenario.await("the leader ready, every follower up, nothing pending", timeout, () -> {
                var s = lab.statusJson(Netlab.LEADER);
                if (s == null || !s.getBoolean("ready", false) || s.getInteger("pendingTransactions", 1) != 0
                        || s.getInteger("pendingPhase2", 1) != 0) return false;
                for (Object o : s.getJsonArray("followers")) if (!((io.vertx.core.json.JsonObject) o).getBoolean("up")) return false;
                return true;
            });
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }

    /* --- The plain scenarios: a leader and three followers, redundancy 2 --- */

    @Test
    @Order(1)
    @Timeout(180)
    void leaderCutFromOneFollower() throws Exception {
        Netlab lab = plainLab();
        try (Scenario s = plainScenario(lab, "leader-cut-from-one-follower", SEED)) {
            s.baseline(3000, 100);
            Set<String> affected = Scenario.keysOn(s.keys, Set.of(1));
            s.fault("cut leader | f1", affected, () -> lab.cut("leader", "f1"), 10_000, lab::heal);
            finishPlain(s, affected, true);
        } finally {
            if (lab.isUp()) lab.heal();
        }
    }

    @Test
    @Order(2)
    @Timeout(180)
    void leaderCutFromAllFollowers() throws Exception {
        Netlab lab = plainLab();
        try (Scenario s = plainScenario(lab, "leader-cut-from-all-followers", SEED + 1)) {
            s.baseline(3000, 100);
            Set<String> all = Set.copyOf(s.keys);
            s.fault("cut leader | f1, f2, f3", all, () -> lab.partition(List.of("leader"), List.of("f1", "f2", "f3")), 8_000, lab::heal);
            finishPlain(s, all, false);
        } finally {
            if (lab.isUp()) lab.heal();
        }
    }

    @Test
    @Order(3)
    @Timeout(180)
    void followerIsolated() throws Exception {
        Netlab lab = plainLab();
        try (Scenario s = plainScenario(lab, "follower-isolated", SEED + 2)) {
            s.baseline(3000, 100);
            Set<String> affected = Scenario.keysOn(s.keys, Set.of(2));
            s.fault("isolate f2", affected, () -> lab.isolate("f2"), 10_000, lab::heal);
            finishPlain(s, affected, true);
        } finally {
            if (lab.isUp()) lab.heal();
        }
    }

    /**
     * SPEC.md sections 10 and 12: a follower isolated longer than {@code --heal-after} (3 s here)
     * is evicted and its keys get new replicas; after the heal it comes back holding stale data,
     * learns it was evicted, rejoins and is refilled. Its stale data is never served: reads through
     * the leader stay linearizable, and its own GETs answer 503 while its status says it is
     * evicted or joining.
     */
    @Test
    @Order(6)
    @Timeout(240)
    void anIsolatedFollowerIsEvictedAndNeverServesItsStaleData() throws Exception {
        plain.down();
        plain.nodeEnv.put("KVSTORE_HEAL_AFTER", "3");
        String f2 = "http://192.168.56.12:16201";
        try {
            Netlab lab = plainLab();
            try (Scenario s = plainScenario(lab, "follower-isolated-past-heal-after", SEED + 5)) {
                s.baseline(3000, 100);
                Set<String> affected = Scenario.keysOn(s.keys, Set.of(2));
                s.fault("isolate f2 for 8 s (--heal-after 3)", affected, () -> lab.isolate("f2"), 8_000, lab::heal);
                // From the heal on: f2's own GETs of its old keys, with its state just before each.
                List<String> probes = new ArrayList<>();
                long until = System.currentTimeMillis() + 20_000;
                boolean sawUpAgain = false, sawOut = false;
                while (System.currentTimeMillis() < until && !sawUpAgain) {
                    var st = lab.statusJson(f2);
                    String state = st == null ? "unreachable" : st.getString("state", "?");
                    if (state.equals("evicted") || state.equals("joining") || state.equals("new")) {
                        sawOut = true;
                        for (String k : affected) {
                            Netlab.Result r = lab.curl(f2 + "/?key=" + k, "X-KV-Secret: " + Netlab.SECRET);
                            if (r.code() == 503) continue;
                            // Only an answer given while it was out of the ring both before and after counts.
                            var after = lab.statusJson(f2);
                            String now = after == null ? "unreachable" : after.getString("state", "?");
                            if (now.equals(state)) probes.add(k + " answered " + r.code() + " " + r.output() + " while " + state);
                        }
                    }
                    sawUpAgain = sawOut && state.equals("up");
                }
                System.out.println("isolated past heal-after: f2 out of the ring after the heal: " + sawOut + ", up again: " + sawUpAgain);
                finishPlain(s, affected, true, 15_000);
                assertTrue(sawOut && sawUpAgain, "f2 was evicted, then joined again and served (out " + sawOut + ", up " + sawUpAgain + ")");
                assertEquals(List.of(), probes, "an evicted or joining follower answers its own GETs with 503 (SPEC 10)");
            }
        } finally {
            plain.nodeEnv.clear();
            plain.down();
        }
    }

    /**
     * Partitions that come and go while writes are in flight (so some heal in the middle of a
     * two-phase commit): three rounds of a seeded fault for 3 s, then 3 s healed.
     */
    @Test
    @Order(4)
    @Timeout(180)
    void partitionsThatHealMidRun() throws Exception {
        Netlab lab = plainLab();
        long seed = SEED + 3;
        Random rnd = new Random(seed);
        try (Scenario s = plainScenario(lab, "partitions-heal-mid-run", seed)) {
            s.baseline(3000, 100);
            for (int round = 0; round < 3; round++) {
                int a = 1 + rnd.nextInt(3), b = 1 + (a + rnd.nextInt(2)) % 3, c = 6 - a - b;
                switch (rnd.nextInt(3)) {
                    case 0 -> s.fault("split leader, f" + a + " | f" + b + ", f" + c, Scenario.keysOn(s.keys, Set.of(b, c)),
                            () -> lab.partition(List.of("leader", "f" + a), List.of("f" + b, "f" + c)), 3_000, lab::heal);
                    case 1 -> s.fault("cut leader | f" + a, Scenario.keysOn(s.keys, Set.of(a)), () -> lab.cut("leader", "f" + a), 3_000, lab::heal);
                    default -> s.fault("isolate f" + a, Scenario.keysOn(s.keys, Set.of(a)), () -> lab.isolate("f" + a), 3_000, lab::heal);
                }
                if (round < 2) Scenario.awaitTime(System.currentTimeMillis() + 3_000);
            }
            finishPlain(s, Set.copyOf(s.keys), true);
        } finally {
            if (lab.isUp()) lab.heal();
        }
    }

    private static Scenario plainScenario(Netlab lab, String name, long seed) throws Exception {
        System.out.println("== " + name + " (seed " + seed + ")");
        Scenario s = new Scenario(lab, name, seed, Scenario.keysOnEveryPair(name, 2), List.of(Netlab.LEADER));
        s.start(12, List.of(Netlab.LEADER + "/api/status"));
        return s;
    }

    /**
     * After the last heal: wait until every affected key takes writes again (at most 20 s), keep
     * the load 3 s more, stop, then check and report. {@code readsServedByOtherReplica}: the fault
     * left every key a reachable replica, so SPEC.md section 5 wants its reads served.
     */
    private void finishPlain(Scenario s, Set<String> lastAffected, boolean readsServedByOtherReplica) throws Exception {
        finishPlain(s, lastAffected, readsServedByOtherReplica, 5_000);
    }

    /**
     * As above; {@code servedAgainWithinMs}: how soon after the last heal every affected key must
     * take writes again (an evicted follower's return is a membership change of its own: it
     * registers, copies and settles, seconds of work on this machine).
     */
    private void finishPlain(Scenario s, Set<String> lastAffected, boolean readsServedByOtherReplica, long servedAgainWithinMs) throws Exception {
        long healed = s.faults.get(s.faults.size() - 1).endMs();
        s.awaitWritesAcked(lastAffected, healed, Duration.ofSeconds(20));
        Scenario.awaitTime(System.currentTimeMillis() + 3_000);
        History h = s.stop();
        long end = System.currentTimeMillis();
        Checks c = new Checks(s.name);
        if (!quiet(s.lab, Duration.ofSeconds(60))) {
            c.fail("the lab settled (every follower up, nothing pending) within 60 s of the end");
            System.out.println(s.lab.status()); // which nodes are still alive
        }
        List<Sample> samples = s.samples();
        List<Chart.Marker> markers = followerTransitions(samples);
        report(s, h, end, markers);
        historyChecks(s, h, c, 3);
        for (int i = 0; i < s.faults.size(); i++) {
            History.Fault f = s.faults.get(i);
            long until = i + 1 < s.faults.size() ? s.faults.get(i + 1).startMs() : end;
            History.FaultFigures ff = h.figures(f, baselineFrom(s), until, Set.copyOf(s.keys));
            // SPEC.md section 5: writes to an unreachable follower's keys are refused (or succeed) within 2 s each.
            List<Call> inFault = h.duringFault(f);
            double slowest = History.maxLatencyMs(inFault);
            c.check(slowest <= 2000 + SLACK_MS, String.format("'%s': every write to the affected keys in flight during the fault answered within 2 s "
                    + "(SPEC 5): slowest %.0f ms, %d of %d slower, %d without an answer in 10 s", f.label(), slowest,
                    inFault.stream().filter(x -> x.retUs() - x.callUs() > (2000 + SLACK_MS) * 1000).count(), inFault.size(), ff.writesUnknown()));
            // A split that puts both replicas of a key on the far side leaves nothing to read
            // from: those reads are refused (SPEC 5), within 2 s like the writes.
            boolean split = f.label().startsWith("split");
            if (readsServedByOtherReplica && split) {
                c.check(ff.slowestReadMs() <= 2000 + SLACK_MS, String.format("'%s': reads of keys with no reachable replica answered "
                        + "(refused) within 2 s (SPEC 5): slowest %.0f ms", f.label(), ff.slowestReadMs()));
            } else if (readsServedByOtherReplica) {
                c.check(ff.readsRefused() == 0 && ff.slowestReadMs() <= 2000 + SLACK_MS, String.format("'%s': reads of the affected keys "
                        + "served by another replica within 2 s (SPEC 5): %d of %d refused or unanswered, slowest %.0f ms",
                        f.label(), ff.readsRefused(), ff.affectedReads(), ff.slowestReadMs()));
            }
            // Once healed, the leader's next check (at least every 2 s) finds the follower up again
            // (SPEC 2): allow that, a 2 s request deadline and 1 s more.
            if (i == s.faults.size() - 1) {
                c.check(ff.servedAgainAfterHealMs() >= 0 && ff.servedAgainAfterHealMs() <= servedAgainWithinMs,
                        String.format("'%s': everything served again within %d s of the heal: %.1f s", f.label(), servedAgainWithinMs / 1000,
                                ff.servedAgainAfterHealMs() / 1000.0));
            }
        }
        c.done();
    }

    /** "leader: fN down/up" events from the leader's status samples. */
    private static List<Chart.Marker> followerTransitions(List<Sample> samples) {
        List<Chart.Marker> out = new ArrayList<>();
        Map<String, Boolean> last = new java.util.HashMap<>();
        for (Sample x : samples) {
            if (x.status() == null || x.status().getJsonArray("followers") == null) continue;
            for (Object o : x.status().getJsonArray("followers")) {
                var f = (io.vertx.core.json.JsonObject) o;
                String name = "f" + (Integer.parseInt(f.getString("host").substring(f.getString("host").lastIndexOf('.') + 1)) - 10);
                Boolean up = f.getBoolean("up");
                Boolean before = last.put(name, up);
                if (before != null && !before.equals(up)) out.add(new Chart.Marker("leader sees " + name + (up ? " up" : " down"), x.atMs()));
            }
        }
        return out;
    }

    /* --- Cluster mode: the active leader isolated from everything but the clients --- */

    /**
     * Leader (.10), a standby {@code leader2} (.14) and three followers in clustered mode. The
     * active leader is cut from the followers and the standby (the clients still reach it) for
     * 20 s: the standby on the majority side takes office; then the old leader's side heals and the
     * run goes on for 15 s (SPEC 7: one leader within 10 s of the heal, and it stays). The clients use whichever leader serves.
     */
    @Test
    @Order(5)
    @Timeout(300)
    void activeLeaderIsolatedStandbyTakesOver() throws Exception {
        if (plain.isUp()) plain.down(); // two labs at once are too much for two cores
        long seed = SEED + 4;
        String l1 = Netlab.LEADER, l2 = "http://192.168.56.14:16200";
        try {
            cluster.up(true, 3);
            System.out.println("== active-leader-isolated (seed " + seed + ")");
            try (Scenario s = new Scenario(cluster, "active-leader-isolated", seed, Scenario.keysOnEveryPair("cluster", 2), List.of(l1, l2))) {
                s.start(12, List.of(l1 + "/api/status", l2 + "/api/status"));
                s.baseline(3000, 100);
                String label = "isolate leader (not from the clients)";
                long start = s.begin(label, () -> cluster.isolate("leader", "client"));
                // Writes straight to the cut-off leader once a second from 6 s on (SPEC 7: it answers
                // 503 after 5 s; (c): it must never acknowledge one).
                List<String> probes = new ArrayList<>();
                try {
                    for (int i = 0; i < 14; i++) {
                        Scenario.awaitTime(start + 6_000 + 1_000L * i);
                        Netlab.Result r = cluster.request("PUT", l1 + "/?key=probe-old-leader&val=p" + i);
                        probes.add(r.code() + " " + r.output());
                    }
                    Scenario.awaitTime(start + 20_000);
                } finally {
                    cluster.heal();
                }
                History.Fault f = s.end(label, Set.copyOf(s.keys), start);
                s.awaitWritesAcked(Set.copyOf(s.keys), f.endMs(), Duration.ofSeconds(30));
                Scenario.awaitTime(f.endMs() + 15_000);
                History h = s.stop();
                long end = System.currentTimeMillis();
                Checks c = new Checks(s.name);
                List<Sample> samples = s.samples();
                List<Chart.Marker> markers = officeChanges(samples);
                report(s, h, end, markers);
                awaitNoPrepared(cluster, c);
                historyChecks(s, h, c, 3);
                clusterChecks(s, h, f, samples, end, probes, c);
                c.done();
            }
        } finally {
            cluster.down();
        }
    }

    private static void awaitNoPrepared(Netlab lab, Checks c) {
        try {
            Scenario.await("no prepared transactions on the followers", Duration.ofSeconds(60), () -> {
                for (int i = 1; i <= 3; i++) {
                    var st = lab.statusJson("http://" + Scenario.followerAddress(i) + ":16201");
                    if (st == null || !st.getJsonArray("pending").isEmpty()) return false;
                }
                return true;
            });
        } catch (AssertionError e) {
            c.fail("the followers settled every prepared transaction within 60 s of the end");
        }
    }

    /** Markers where a leader takes office (or a new epoch). */
    private static List<Chart.Marker> officeChanges(List<Sample> samples) {
        List<Chart.Marker> out = new ArrayList<>();
        boolean[] in = new boolean[2];
        long[] epoch = new long[2];
        for (Sample x : samples) {
            boolean now = x.inOffice();
            if (now != in[x.leader()] || (now && x.epoch() != epoch[x.leader()])) {
                String who = x.leader() == 0 ? "leader" : "leader2";
                if (now) out.add(new Chart.Marker(who + " in office, epoch " + x.epoch(), x.atMs()));
                in[x.leader()] = now;
                epoch[x.leader()] = x.epoch();
            }
        }
        return out;
    }

    private void clusterChecks(Scenario s, History h, History.Fault f, List<Sample> samples, long end, List<String> probes, Checks c) {
        // SPEC 7: the standby takes office within 10 s of the active leader's isolation.
        Sample takeover = samples.stream().filter(x -> x.leader() == 1 && x.atMs() >= f.startMs() && x.inOffice()).findFirst().orElse(null);
        long takeoverMs = takeover == null ? -1 : takeover.atMs() - f.startMs();
        System.out.printf("standby in office %.1f s after the isolation%s%n", takeoverMs / 1000.0, takeover == null ? " (never)" : ", epoch " + takeover.epoch());
        c.check(takeover != null && takeoverMs <= 10_000 + SLACK_MS, String.format("the standby took office within 10 s of the isolation (SPEC 7): %.1f s", takeoverMs / 1000.0));

        // (c) The isolated old leader acknowledges no write called after it was cut off, until it
        // takes office again after the heal with an epoch above the standby's.
        long fencingEpoch = takeover == null ? Long.MAX_VALUE : takeover.epoch();
        long backInOffice = samples.stream().filter(x -> x.leader() == 0 && x.atMs() > f.endMs() && x.inOffice() && x.epoch() > fencingEpoch)
                .mapToLong(Sample::atMs).findFirst().orElse(Long.MAX_VALUE);
        List<Call> oldAcks = h.select(x -> x.leader() == 0 && x.write() && x.status() >= 200 && x.status() < 300 && x.callUs() >= f.startMs() * 1000
                && x.retUs() < backInOffice * 1000);
        c.check(oldAcks.isEmpty(), "(c) the cut-off old leader acknowledged no write from its isolation on: " + oldAcks.size()
                + (oldAcks.isEmpty() ? "" : " (first: " + oldAcks.get(0) + ")"));

        // SPEC 7: a leader that cannot reach a majority for 5 s answers 503 (so clients move on).
        System.out.println("writes sent straight to the cut-off old leader, once a second from 6 s after its isolation: " + probes);
        c.check(probes.stream().noneMatch(p -> p.startsWith("201")), "(c) the cut-off old leader acknowledged none of the writes sent straight to it: "
                + probes.stream().filter(p -> p.startsWith("201")).count() + " of " + probes.size());
        c.check(!probes.isEmpty() && probes.stream().allMatch(p -> p.startsWith("503")), "the cut-off old leader answered 503 from 5 s after "
                + "its isolation (SPEC 7): " + probes.stream().map(p -> p.replace("\n", " ")).distinct().toList());
        long oldStillReady = samples.stream().filter(x -> x.leader() == 0 && x.atMs() >= f.startMs() + 6000 && x.atMs() < f.endMs() && x.inOffice()).count();
        c.check(oldStillReady == 0, "the cut-off old leader says in /api/status that it does not serve, from 5 s after its isolation (SPEC 7): "
                + oldStillReady + " samples had it in office and ready");

        // SPEC 7: after the heal, exactly one leader in office within 10 s, and it stays.
        long from = f.endMs() + 10_000;
        List<Sample> after = samples.stream().filter(x -> x.atMs() >= from && x.atMs() <= end).toList();
        int changes = 0;
        Set<String> offices = new TreeSet<>();
        boolean[] in = new boolean[2];
        long[] ep = new long[2];
        for (Sample x : samples) {
            if (x.atMs() < f.endMs()) {
                in[x.leader()] = x.inOffice();
                ep[x.leader()] = x.epoch();
                continue;
            }
            if (x.inOffice() != in[x.leader()] || (x.inOffice() && x.epoch() != ep[x.leader()])) changes++;
            in[x.leader()] = x.inOffice();
            ep[x.leader()] = x.epoch();
        }
        for (Sample x : after) if (x.inOffice()) offices.add((x.leader() == 0 ? "leader" : "leader2") + " epoch " + x.epoch());
        boolean bothAtOnce = false;
        Sample[] lastOf = new Sample[2];
        for (Sample x : after) {
            lastOf[x.leader()] = x;
            if (lastOf[0] != null && lastOf[1] != null && lastOf[0].inOffice() && lastOf[1].inOffice()) bothAtOnce = true;
        }
        System.out.printf("after the heal: %d changes of office in %.1f s; from heal + 10 s on, in office: %s%n", changes,
                (end - f.endMs()) / 1000.0, offices);
        c.check(offices.size() == 1 && !bothAtOnce, "exactly one leader in office from 10 s after the heal, and it stays (SPEC 7): "
                + offices + (bothAtOnce ? ", both at once" : "") + "; " + changes + " changes of office after the heal");
        History.FaultFigures ff = h.figures(f, baselineFrom(s), end, Set.copyOf(s.keys));
        c.check(ff.servedAgainAfterHealMs() >= 0 && ff.servedAgainAfterHealMs() <= 10_000,
                String.format("everything served again within 10 s of the heal (SPEC 7): %.1f s", ff.servedAgainAfterHealMs() / 1000.0));
    }

    /* --- Shared --- */

    /** The undisturbed latencies are taken after the first 1.5 s, once the client's JIT has warmed up. */
    private static long baselineFrom(Scenario s) {
        return s.startedMs() + 1500;
    }

    /** Prints the figures of every fault and writes the SVG. */
    private static void report(Scenario s, History h, long end, List<Chart.Marker> markers) throws Exception {
        long ops = h.calls.size(), served = h.calls.stream().filter(Call::served).count(),
                unknown = h.calls.stream().filter(x -> !x.answered()).count();
        System.out.printf("%s: %d operations (%d acknowledged, %d refused, %d unknown) in %.1f s; history %s%n", s.name, ops, served,
                ops - served - unknown, unknown, (end - s.startedMs()) / 1000.0, s.history);
        for (int i = 0; i < s.faults.size(); i++) {
            long until = i + 1 < s.faults.size() ? s.faults.get(i + 1).startMs() : end;
            System.out.print(h.figures(s.faults.get(i), baselineFrom(s), until, Set.copyOf(s.keys)).describe());
            System.out.println();
        }
        for (Chart.Marker m : markers) System.out.printf("  +%.1f s %s%n", (m.atMs() - s.startedMs()) / 1000.0, m.label());
        Path svg = Chart.write(Path.of("target", "partitions", s.name + ".svg"), s.name + " (seed " + s.seed + ")", h, s.startedMs(), end,
                s.faults, markers);
        System.out.println("picture: " + svg.toUri());
    }

    /** (a) and (b): linearizable, then nothing lost or resurrected at the end, replicas agreeing. */
    private static void historyChecks(Scenario s, History h, Checks c, int followers) throws Exception {
        List<Operation> ops = h.operations();
        long unknown = ops.stream().filter(Operation::unknownOutcome).count();
        c.check(ops.size() > 200, "enough operations to mean something: " + ops.size());
        LinearizabilityChecker.Result r = Scenario.linearizable(ops, Duration.ofSeconds(90));
        c.check(r.ok(), "(a) the history is linearizable per key (" + ops.size() + " operations, " + unknown + " unknown)"
                + (r.ok() ? "" : ": " + r.failures().keySet() + ", history in " + s.history));
        Map<String, Map<String, Final>> finals = s.finalRead(followers);
        List<Operation> withFinal = new ArrayList<>(ops);
        long t = Long.MAX_VALUE - 10;
        int checkedReplicas = 0;
        List<String> disagree = new ArrayList<>();
        for (String key : s.keys) {
            Final lf = finals.get(key).get("leader");
            boolean settled = lf.status() == 200 || (lf.status() == 500 && lf.body().equals("error: no key"));
            c.check(settled, "(b) " + key + " read through the leader at the end: " + lf.status() + " " + lf.body());
            if (!settled) continue;
            // A read after everything: at the end of time (after every answered call; unknown writes may still come after it).
            withFinal.add(Operation.get(99, key, lf.value(), t - 2, t - 1));
            var placement = new io.vertx.core.json.JsonObject(finals.get(key).get("placement").body());
            List<Integer> replicas = new ArrayList<>();
            for (Object o : placement.getJsonArray("replicas")) {
                String host = ((io.vertx.core.json.JsonObject) o).getString("host");
                replicas.add(Integer.parseInt(host.substring(host.lastIndexOf('.') + 1)) - 10);
            }
            assertEquals(Scenario.replicas(key, followers, 2), replicas, "the leader places " + key + " as the test computed");
            for (int f : replicas) {
                Final v = finals.get(key).get("f" + f);
                checkedReplicas++;
                if (!Objects.equals(v.value(), lf.value()) || (v.status() != 200 && !v.body().equals("error: no key"))) {
                    disagree.add(key + " on f" + f + ": " + v.status() + " " + v.body() + " (leader: " + lf.value() + ")");
                }
            }
        }
        LinearizabilityChecker.Result rf = Scenario.linearizable(withFinal, Duration.ofSeconds(90));
        c.check(rf.ok(), "(b) no acknowledged write lost, no deleted key back: the history and a final read of every key are linearizable"
                + (rf.ok() ? "" : ": " + rf.failures().keySet()));
        c.check(disagree.isEmpty(), "(b) every replica holds what the leader reads (" + checkedReplicas + " replicas): " + disagree);
    }

    /** Every check is printed; the test fails at the end with all that failed. */
    static final class Checks {
        final String scenario;
        final List<String> failed = new ArrayList<>();

        Checks(String scenario) {
            this.scenario = scenario;
        }

        boolean check(boolean ok, String what) {
            System.out.println((ok ? "  ok      " : "  FAILED  ") + what);
            if (!ok) failed.add(what);
            return ok;
        }

        boolean fail(String what) {
            return check(false, what);
        }

        void done() {
            assertTrue(failed.isEmpty(), scenario + ": " + failed.size() + " check(s) failed:\n  " + String.join("\n  ", failed));
        }
    }
}
