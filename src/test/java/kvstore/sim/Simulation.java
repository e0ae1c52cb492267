package kvstore.sim;

import kvstore.core.Errors;
import kvstore.core.LeaderLog;
import kvstore.core.Member;
import kvstore.core.Write;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Answer;
import kvstore.core.tpc.ClientOp;
import kvstore.core.tpc.Coordinator;
import kvstore.core.tpc.Effect;
import kvstore.core.tpc.EffectRunner;
import kvstore.core.tpc.Participant;
import kvstore.core.tpc.RidMemory;
import kvstore.core.tpc.TxnRequest;
import kvstore.core.view.Membership;
import kvstore.core.view.Placement;
import kvstore.core.view.Holders;
import kvstore.core.view.View;
import kvstore.core.view.ViewKeeper;
import kvstore.core.view.ViewMember;
import kvstore.core.Hash;
import kvstore.lincheck.Operation;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A deterministic simulation of leaders and followers (FoundationDB's simulation, TigerBeetle's
 * VOPR): the real {@link Coordinator}, {@link Participant}s and {@link ViewKeeper}, the coordinator
 * driven through the real {@link EffectRunner} (the loop that ships), in one thread, on a seeded
 * schedule.
 *
 * <p>Faults: messages delayed, dropped, doubled and reordered; answers that arrive after their
 * deadline; partitions that cut a leader from some followers both ways, silently; a failure
 * detector that suspects live followers and notices dead ones late; disks that lose what was not
 * flushed; crashes and restarts of any node; with {@code twoLeaders}, a standby that takes office
 * with a newer epoch accepted by a majority while the old leader still runs (fenced by the
 * followers, it steps down when it notices); with {@code membership}, followers that join, are
 * drained, are evicted after being down too long, come back evicted, or come back with an empty
 * disk, while the keys move; with {@code txns}, bank transfers across followers and audits of
 * the total. Clients' operations and their answers are recorded, refusals included, for the
 * linearizability checker; transfers are checked by the audits (no reader ever sees part of a
 * transaction) and by the total at the end.
 *
 * <p>Everything random comes from one {@link Random}: the same seed gives the same run.
 */
final class Simulation {

    /** The knobs of one run. */
    record Faults(double drop, double duplicate, int maxDelayMillis, double crashPerStep, double cutPerStep,
                  double suspectPerStep, boolean twoLeaders, double deadlineFactor, double membershipPerStep, boolean txns) {
        static final Faults NONE = new Faults(0, 0, 3, 0, 0, 0, false, 10, 0, false);
        static final Faults ROUGH = new Faults(0.03, 0.03, 25, 0.002, 0, 0, false, 3, 0, false);
        static final Faults NASTY = new Faults(0.15, 0.15, 120, 0.006, 0, 0, false, 3, 0, false);
        /** The grey failures: partitions, a lying failure detector, answers often past their deadlines, two leaders. */
        static final Faults GREY = new Faults(0.05, 0.05, 90, 0.003, 0.004, 0.004, true, 1.5, 0, false);
        /** Joins, drains, evictions, wiped disks and their moves, with crashes and lost messages. */
        static final Faults MEMBERSHIP = new Faults(0.03, 0.03, 25, 0.002, 0.001, 0.001, false, 3, 0.004, false);
        /** Membership changes under a standby's takeovers. */
        static final Faults MEMBERSHIP_TWO_LEADERS = new Faults(0.03, 0.03, 25, 0.002, 0.002, 0.001, true, 3, 0.003, false);
        /** Bank transfers and audits across followers, with crashes, partitions and takeovers. */
        static final Faults BANK = new Faults(0.05, 0.05, 40, 0.003, 0.002, 0.002, true, 2, 0.002, true);

        /** Message deadlines in proportion to the delays: with a factor near 1, many answers come too late. */
        Coordinator.Settings settings(boolean cluster) {
            long d = maxDelayMillis;
            return new Coordinator.Settings(2_000, (long) (deadlineFactor * d) + 10, (long) (deadlineFactor * d * 0.8) + 10,
                    (long) (deadlineFactor * d * 1.2) + 10, 100_000, 5, 200, cluster, cluster, 0);
        }
    }

    static final long HEAL_AFTER = 300;
    static final int MAX_FOLLOWERS = 6;
    static final int ACCOUNTS = 4, OPENING_BALANCE = 100;

    final Random rnd;
    final Faults faults;
    final boolean clusterRules;
    final int redundancy;
    long now;
    private long seq;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    final List<Operation> history = new ArrayList<>();
    final List<String> keys = List.of("a", "b", "c", "d", "e");
    final List<String> accounts = new ArrayList<>();
    int crashes, acked, refused, unknown, takeovers, stepDowns, joins, drains, evictions, wipes, transfers, audits;
    final List<String> broken = new ArrayList<>();

    private record Event(long at, long seq, Runnable action) implements Comparable<Event> {
        @Override public int compareTo(Event o) {
            return at != o.at ? Long.compare(at, o.at) : Long.compare(seq, o.seq);
        }
    }

    void at(long delay, Runnable action) {
        events.add(new Event(now + Math.max(0, delay), seq++, action));
    }

    /* --- Disks: records are durable only once flushed; a crash loses the rest --- */

    static final class Disk {
        final List<LogRecord> durable = new ArrayList<>();
        final List<LogRecord> pending = new ArrayList<>();
    }

    /** Flushes what is pending now; {@code then} runs when it is durable (unless the node crashed meanwhile). */
    void flush(Disk disk, java.util.function.IntSupplier generation, Runnable then) {
        List<LogRecord> batch = new ArrayList<>(disk.pending);
        int g = generation.getAsInt();
        at(1 + rnd.nextInt(3), () -> {
            if (generation.getAsInt() != g) return;
            for (LogRecord r : batch) if (disk.pending.remove(r)) disk.durable.add(r);
            then.run();
        });
    }

    /* --- Followers --- */

    final class Follower {
        final Member member;
        final Disk disk = new Disk();
        String identity;
        Participant p;
        boolean up = true;
        int generation;
        long downSince;
        long lastLeaderContact = -10_000;
        boolean copying;
        int copyChain, copySteps;
        /** Its registrar is asking to be let in: after a restart, or evicted for not answering. */
        boolean registering;
        String lastState = "up";

        Follower(int i) {
            member = Member.of("10.0.0." + (i + 1), 16201);
            identity = "id-" + i;
            p = new Participant(member.id());
        }

        void persistThen(Participant.Step step, Runnable reply) {
            disk.pending.addAll(step.records());
            int g = generation;
            flush(disk, () -> generation, () -> { if (up && generation == g) reply.run(); });
        }

        void crash() {
            debug("follower " + member.host() + " crashes");
            up = false;
            generation++;
            disk.pending.clear();
            // What it knows now is what its disk holds: a commit it applied but had not made
            // durable is gone (the wipe guard below must see that, not the memory of a dead process).
            p = recovered();
            downSince = now;
            copying = false;
            copyChain++;
            crashes++;
        }

        void restart() {
            debug("follower " + member.host() + " restarts");
            p = recovered();
            up = true;
            registering = true;
            lastState = p.state();
        }

        /** The state its durable records rebuild, as recovery after a crash would. */
        private Participant recovered() {
            Participant r = new Participant(member.id());
            for (LogRecord rec : disk.durable) r.apply(rec);
            return r;
        }

        /** Its disk is replaced by an empty one: another identity at the same address. */
        void wipe() {
            disk.durable.clear();
            disk.pending.clear();
            identity = identity + "'";
            debug("follower " + member.host() + " wiped");
            wipes++;
        }
    }

    /* --- Leaders --- */

    final class Leader implements EffectRunner.Shell {
        final int id;
        final Disk disk = new Disk();
        final EffectRunner runner = new EffectRunner(this);
        ViewKeeper keeper;
        long epoch;
        boolean up = true;
        boolean active;
        int generation;
        long high, ridsUntil;
        List<LogRecord.Decision> undecided = List.of();
        /** What the failure detector says: followers suspected down, until when. */
        final Map<Long, Long> suspectedUntil = new HashMap<>();

        Leader(int id) {
            this.id = id;
        }

        Coordinator coordinator() {
            return runner.coordinator();
        }

        /** Takes office alone (one leader: its log is the whole truth) with the next epoch. */
        void startAlone() {
            LeaderLog log = replay();
            epoch = log.epoch() + 1;
            disk.durable.add(new LogRecord.Epoch(epoch)); // durable before any message
            active = true;
            high = log.highVersion();
            undecided = log.undecided();
            ridsUntil = 0;
            keeper = new ViewKeeper(epoch, log.view(), log.view().moving(), HEAL_AFTER, false);
            runKeeper();
        }

        LeaderLog replay() {
            LeaderLog log = new LeaderLog();
            for (LogRecord r : disk.durable) log.apply(r);
            return log;
        }

        /** The keeper's effects: views made durable before anyone hears of them; the coordinator follows. */
        void runKeeper() {
            if (keeper == null) return;
            for (ViewKeeper.Effect e : keeper.drain()) {
                if (e instanceof ViewKeeper.AppendView a) {
                    if (DEBUG) debug("leader " + id + " appends " + describe(a.view()));
                    if (coordinator() != null) runner.event(c -> c.viewProposed(a.view()));
                    disk.pending.add(new LogRecord.ViewRecord(a.view()));
                    ViewKeeper k = keeper;
                    flush(disk, () -> generation, () -> {
                        if (keeper != k) return;
                        k.durable(a.view());
                        runKeeper();
                    });
                } else if (e instanceof ViewKeeper.Act a) {
                    if (DEBUG) debug("leader " + id + " acts on " + describe(a.view()));
                    Coordinator c = coordinator();
                    if (c == null) {
                        runner.attach(new Coordinator(faults.settings(clusterRules), epoch, a.view(), undecided, high, replay().rids(),
                                ridsUntil, now));
                        View next = keeper.latest();
                        if (next != a.view()) runner.event(k -> k.viewProposed(next));
                        health();
                    } else {
                        runner.event(k -> k.useView(a.view(), now));
                    }
                }
            }
        }

        void crash() {
            up = false;
            generation++;
            disk.pending.clear();
            runner.stepDown();
            keeper = null;
            active = false;
            crashes++;
            for (Pending p : new ArrayList<>(pending.values())) if (p.leader == this) finishUnknown(p);
            pending.values().removeIf(p -> p.leader == this);
        }

        void stepDown() {
            stepDowns++;
            active = false;
            runner.stepDown();
            keeper = null;
        }

        /** The identity this leader's messages to {@code f} carry (null: any): from the latest durable view, as the real channels. */
        String identityOf(Follower f) {
            View v = keeper == null ? null : keeper.latest();
            ViewMember m = v == null ? null : v.member(f.member.id());
            return m == null ? null : m.identity();
        }

        /** The follower answers this leader: up, not cut off, and the member its view names (not a wiped disk). */
        boolean reaches(Follower f) {
            String expect = identityOf(f);
            return f.up && !cut(this, f) && (expect == null || expect.equals(f.identity));
        }

        /** Tells the coordinator what the (imperfect) failure detector sees. */
        void health() {
            Coordinator c = coordinator();
            if (c == null) return;
            for (Follower f : followers) {
                boolean seen = reaches(f);
                Long until = suspectedUntil.get(f.member.id());
                if (until != null && until > now) seen = false;
                // A dead follower is noticed late: up to 127 ms after it died.
                if (!f.up && now - f.downSince < (f.member.id() & 127)) seen = true;
                c.followerHealth(f.member.id(), seen, now);
            }
        }

        /* --- EffectRunner.Shell: the network and disk of the simulation --- */

        @Override public long now() {
            return now;
        }

        /** A request to a follower: {@code done} runs once, with the answer or with {@code timeout} at the deadline. */
        private <T> void request(Follower f, long deadline, T timeout, Function<Follower, Consumer<Consumer<T>>> handler, Consumer<T> done) {
            boolean[] finished = {false};
            int g = generation;
            Consumer<T> once = t -> {
                if (finished[0] || generation != g || !up) return;
                finished[0] = true;
                done.accept(t);
            };
            long e = epoch;
            View v = keeper == null ? null : keeper.durable();
            String expect = identityOf(f);
            send(this, f, () -> {
                if (!f.up) return;
                if (expect != null && !expect.equals(f.identity)) {
                    // Not the identity the message names: 421. An outcome query learns that the old
                    // replica's knowledge is gone; anything else hears nothing.
                    if (timeout instanceof Coordinator.OutcomeReply) {
                        @SuppressWarnings("unchecked") T gone = (T) new Coordinator.OutcomeReply(Coordinator.Outcome.UNKNOWN, 0);
                        send(this, f, () -> once.accept(gone), true);
                    }
                    return;
                }
                Participant.Step s = f.p.observeEpoch(e);
                if (s.status() != 200) {
                    send(this, f, () -> once.accept(stale(timeout)), true);
                    return;
                }
                f.lastLeaderContact = now;
                f.disk.pending.addAll(s.records());
                if (v != null) f.disk.pending.addAll(learn(f, v, "request from leader " + id)); // the view leads the batch
                handler.apply(f).accept(answer -> send(this, f, () -> once.accept(answer), true));
            }, false);
            at(deadline - now, () -> once.accept(timeout));
        }

        @SuppressWarnings("unchecked")
        private <T> T stale(T timeout) {
            if (timeout instanceof Coordinator.Vote) return (T) new Coordinator.Vote(Coordinator.VoteKind.STALE, null, 0);
            if (timeout instanceof Coordinator.Phase2Result) return (T) Coordinator.Phase2Result.STALE;
            if (timeout instanceof Coordinator.ReadReply) return (T) new Coordinator.ReadReply(Coordinator.ReadResult.STALE, null, 0);
            return timeout;
        }

        @Override public void prepare(Effect.SendPrepare sp, Consumer<Coordinator.Vote> done) {
            request(follower(sp.to().id()), sp.deadlineMillis(), new Coordinator.Vote(Coordinator.VoteKind.UNKNOWN, null, 0), f -> reply -> {
                Participant.Step s = f.p.prepare(sp.tx(), epoch, sp.writes(), sp.rid(), now);
                if (System.getProperty("kvstore.sim.debug") != null) System.out.println("DEBUG t=" + now + " " + f.member.host() + " prepare " + sp.tx() + " " + sp.writes() + " -> " + s.status() + " " + s.body()+ " deadline " + sp.deadlineMillis());
                f.persistThen(s, () -> reply.accept(s.status() == 202 ? new Coordinator.Vote(Coordinator.VoteKind.YES, null, s.version())
                        : s.status() == 409 ? new Coordinator.Vote(Coordinator.VoteKind.STALE, null, 0)
                        : new Coordinator.Vote(Coordinator.VoteKind.NO, s.body(), s.version())));
            }, done);
        }

        @Override public void phase2(Effect.SendPhase2 p2, Consumer<Coordinator.Phase2Result> done) {
            debug("leader " + id + " sends " + (p2.commit() ? "commit" : "abort") + " of " + p2.tx() + " to " + p2.to().host());
            request(follower(p2.to().id()), p2.deadlineMillis(), Coordinator.Phase2Result.RETRY, f -> reply -> {
                Participant.Step s = p2.commit() ? f.p.commit(p2.tx(), epoch, p2.version(), p2.rid()) : f.p.abort(p2.tx(), epoch, p2.rid());
                if (System.getProperty("kvstore.sim.debug") != null) System.out.println("DEBUG t=" + now + " " + f.member.host() + " phase2 " + p2.commit() + " " + p2.tx() + " -> " + s.status() + " " + s.body() + " view=" + (f.p.view() == null ? null : f.p.view().number()) + " ep=" + f.p.epoch());
                f.persistThen(s, () -> reply.accept(s.status() == 204 ? Coordinator.Phase2Result.ACK
                        : s.status() == 409 ? Coordinator.Phase2Result.STALE
                        : s.status() == 410 ? Coordinator.Phase2Result.GONE : Coordinator.Phase2Result.REFUSED));
            }, done);
        }

        @Override public void read(Effect.SendRead r, Consumer<Coordinator.ReadReply> done) {
            request(follower(r.to().id()), r.deadlineMillis(), new Coordinator.ReadReply(Coordinator.ReadResult.ELSEWHERE, null, 0), f -> reply -> {
                Participant.Read rr = f.p.read(r.key(), true);
                debug(f.member.host() + " read " + r.key() + " -> " + rr.result() + " v" + rr.version() + " fview=" + (f.p.view() == null ? null : f.p.view().number()));
                Coordinator.ReadReply a = switch (rr.result()) {
                    case VALUE -> new Coordinator.ReadReply(Coordinator.ReadResult.VALUE, rr.value(), rr.version());
                    case NO_KEY -> new Coordinator.ReadReply(Coordinator.ReadResult.NO_KEY, null, 0);
                    default -> new Coordinator.ReadReply(Coordinator.ReadResult.ELSEWHERE, null, 0);
                };
                f.persistThen(new Participant.Step(200, "", 0, List.of()), () -> reply.accept(a));
            }, done);
        }

        @Override public void queryOutcome(Effect.QueryOutcome q, Consumer<Coordinator.OutcomeReply> done) {
            debug("leader " + id + " asks " + q.to().host() + " about " + q.tx());
            request(follower(q.to().id()), q.deadlineMillis(), new Coordinator.OutcomeReply(Coordinator.Outcome.UNREACHABLE, 0), f -> reply -> {
                Participant.Outcome o = f.p.outcome(q.tx());
                debug(f.member.host() + " outcome of " + q.tx() + " -> " + o);
                long version = o == Participant.Outcome.COMMITTED ? f.p.committedVersion(q.tx()) : 0;
                reply.accept(new Coordinator.OutcomeReply(Coordinator.Outcome.valueOf(o.name()), version));
            }, r -> { debug("leader " + id + " hears " + r + " from " + q.to().host() + " about " + q.tx()); done.accept(r); });
        }

        @Override public void queryRid(Effect.QueryRid q, Consumer<Coordinator.RidReply> done) {
            request(follower(q.to().id()), q.deadlineMillis(), new Coordinator.RidReply(Coordinator.RidState.UNREACHABLE, null), f -> reply -> {
                RidMemory.Outcome o = f.p.rid(q.rid());
                reply.accept(o != null ? new Coordinator.RidReply(Coordinator.RidState.KNOWN, o)
                        : new Coordinator.RidReply(f.p.ridPending(q.rid()) ? Coordinator.RidState.PENDING : Coordinator.RidState.UNKNOWN, null));
            }, done);
        }

        @Override public void append(List<LogRecord> records, Runnable durable) {
            disk.pending.addAll(records);
            if (durable != null) flush(disk, () -> generation, () -> { if (up) durable.run(); });
        }

        @Override public void reply(long reqId, Answer a) {
            Pending p = pending.remove(reqId);
            if (p != null) finish(p, a);
        }

        @Override public void deposed() {
            if (!clusterRules) throw new AssertionError("deposed with a single leader, epoch " + epoch);
            stepDown();
        }

        @Override public void alarm(String message) {
            // A refusal from a disk that replaced the one the coordinator's view names (a wiped
            // follower back under a new identity, in a view logged but not acted on yet) is
            // expected: the new disk never saw the prepare. Any other alarm is a lost yes vote.
            View acting = keeper == null ? null : keeper.acting();
            for (Follower f : followers) {
                if (!message.startsWith("follower " + f.member.address() + " refused")) continue;
                ViewMember m = acting == null ? null : acting.member(f.member.id());
                if (m != null && m.identity() != null && !m.identity().equals(f.identity)) {
                    debug("expected alarm (a renewed disk): " + message);
                    return;
                }
            }
            throw new AssertionError("alarm: " + message);
        }
    }

    /* --- The network: a message may be late, lost or doubled; a cut link loses everything --- */

    private final Set<String> cuts = new HashSet<>();

    boolean cut(Leader l, Follower f) {
        return cuts.contains(l.id + "-" + f.member.id());
    }

    private void send(Leader l, Follower f, Runnable deliver, boolean toLeader) {
        if (cut(l, f) || rnd.nextDouble() < faults.drop()) return;
        Runnable guarded = () -> { if (!cut(l, f)) deliver.run(); };
        at(1 + rnd.nextInt(faults.maxDelayMillis()), guarded);
        if (rnd.nextDouble() < faults.duplicate()) at(1 + rnd.nextInt(faults.maxDelayMillis()), guarded);
    }

    /** Follower to follower (a copy): late or lost, never cut (partitions here are between leaders and followers). */
    private void sendBetweenFollowers(Runnable deliver) {
        if (rnd.nextDouble() < faults.drop()) return;
        at(1 + rnd.nextInt(faults.maxDelayMillis()), deliver);
    }

    /* --- Setup --- */

    final List<Follower> followers = new ArrayList<>();
    final List<Leader> leaders = new ArrayList<>();
    private long nextReq = 1;
    private final Map<Long, Pending> pending = new HashMap<>();
    private final Client[] clients;

    private record Pending(Client client, Leader leader, ClientOp op, long call) {}

    private final class Client {
        final int id;
        boolean busy;
        int n;
        /** A transfer under way: the versions and balances read first. */
        Map<String, Long> readVersions;
        Map<String, Integer> readBalances;

        Client(int id) { this.id = id; }
    }

    Simulation(long seed, Faults faults, int followerCount, int redundancy) {
        this(seed, faults, followerCount, redundancy, false);
    }

    Simulation(long seed, Faults faults, int followerCount, int redundancy, boolean clusterRules) {
        this.clusterRules = clusterRules || faults.twoLeaders();
        this.rnd = new Random(seed);
        this.faults = faults;
        this.redundancy = redundancy;
        this.clients = new Client[faults.txns() ? 4 : 3];
        for (int i = 0; i < ACCOUNTS; i++) accounts.add("acct" + i);
        for (int i = 0; i < followerCount; i++) followers.add(new Follower(i));
        for (int i = 0; i < clients.length; i++) clients[i] = new Client(i);
        View v = View.empty(redundancy, 1, followerCount);
        for (Follower f : followers) v = Membership.register(v, f.member.host(), f.member.port(), f.identity, 1, 0).view();
        for (Follower f : followers) f.disk.durable.addAll(f.p.learnView(v).records());
        if (faults.txns()) openAccounts(v);
        leaders.add(new Leader(0));
        if (faults.twoLeaders()) leaders.add(new Leader(1));
        Leader first = leaders.get(0);
        first.disk.durable.add(new LogRecord.ViewRecord(v));
        if (this.clusterRules) takeOffice(first);
        else first.startAlone();
    }

    /** The opening balances, written straight to the replicas' disks (as a snapshot would hold them). */
    private void openAccounts(View v) {
        Placement p = new Placement(v);
        for (String a : accounts) {
            for (Member m : p.readSet(a)) {
                Follower f = follower(m.id());
                LogRecord r = new LogRecord.Data(a, 1, String.valueOf(OPENING_BALANCE).getBytes(StandardCharsets.UTF_8));
                f.p.apply(r);
                f.disk.durable.add(r);
            }
        }
    }

    /**
     * A standby takes office (PROTOCOL.md, "Standby leader"): an epoch above every one it knows,
     * accepted durably by a majority of followers that have not heard from a live leader within
     * the lease; it adopts the newest view any of them logged, restated under its own epoch; its
     * coordinator (with the cluster rules: inherited transactions resolved by asking the replicas)
     * starts once a majority logged that. Its predecessor is not told: it is fenced by the followers.
     */
    private void takeOffice(Leader l) {
        if (!l.up || l.active) return;
        long proposed = l.epoch + 1;
        for (Leader o : leaders) proposed = Math.max(proposed, o.epoch + 1);
        for (Follower f : followers) proposed = Math.max(proposed, f.p.epoch() + 1);
        int accepted = 0;
        List<Follower> acceptedBy = new ArrayList<>();
        long high = 0;
        View newest = l.replay().view();
        int voters = 0;
        for (Follower f : followers) if (f.p.view() != null && f.p.view().member(f.member.id()) != null) voters++;
        for (Follower f : followers) {
            if (!f.up || cut(l, f)) continue;
            boolean leaderLive = now - f.lastLeaderContact < 100;
            Participant.Step s = f.p.claimEpoch(proposed, leaderLive);
            if (s.status() != 200) continue;
            f.disk.durable.addAll(s.records()); // accepted durably before answering
            f.lastLeaderContact = now;
            accepted++;
            acceptedBy.add(f);
            high = Math.max(high, f.p.highVersion());
            if (f.p.view() != null && f.p.view().newerThan(newest)) newest = f.p.view();
        }
        if (newest != null) {
            // As the real Office: only the newest view's members count, each under the identity it names.
            voters = newest.members().size();
            int members = 0;
            for (Follower f : acceptedBy) {
                ViewMember vm = newest.member(f.member.id());
                if (vm != null && (vm.identity() == null || vm.identity().equals(f.identity))) members++;
            }
            accepted = members;
        }
        if (accepted < Math.max(voters, 1) / 2 + 1 || newest == null) {
            debug("leader " + l.id + " fails to take office: " + accepted + " accepted of " + voters + " voters, newest view " + (newest == null ? null : newest.number()));
            return;
        } // no view anywhere it can see (wiped disks): it does not found a new cluster
        l.epoch = proposed;
        l.disk.durable.add(new LogRecord.Epoch(proposed));
        l.active = true;
        l.high = Math.max(high, l.replay().highVersion());
        l.undecided = List.of();
        l.ridsUntil = now + 600_000;
        takeovers++;
        l.keeper = new ViewKeeper(proposed, newest, true, HEAL_AFTER, true);
        l.runKeeper();
    }

    Follower follower(long id) {
        for (Follower f : followers) if (f.member.id() == id) return f;
        throw new IllegalStateException("no follower " + id);
    }

    /* --- Clients and their history --- */

    private Leader activeLeader() {
        List<Leader> act = new ArrayList<>();
        for (Leader l : leaders) if (l.up && l.active && l.coordinator() != null) act.add(l);
        return act.isEmpty() ? null : act.get(rnd.nextInt(act.size()));
    }

    private void clientStep(Client cl) {
        Leader l = activeLeader();
        if (cl.busy || l == null) return;
        cl.busy = true;
        ClientOp op;
        if (faults.txns() && cl.id == 3) op = audit();
        else if (faults.txns() && cl.id == 2) op = transferStep(cl);
        else {
            String key = keys.get(rnd.nextInt(keys.size()));
            int dice = rnd.nextInt(10);
            op = dice < 4 ? new ClientOp.Get(key)
                    : dice < 8 ? new ClientOp.Put(key, "c" + cl.id + "-" + (cl.n++), -1, null)
                    : new ClientOp.Put(key, null, -1, null);
        }
        long req = nextReq++;
        pending.put(req, new Pending(cl, l, op, now));
        l.runner.event(c -> c.submit(req, op, now));
    }

    /** A read-only transaction over every account: its total must always be the opening total. */
    private ClientOp audit() {
        List<TxnRequest.TxnOp> gets = new ArrayList<>();
        for (String a : accounts) gets.add(new TxnRequest.TxnOp(TxnRequest.Kind.GET, a, null));
        return new ClientOp.Txn(new TxnRequest(List.of(), gets, List.of(), null));
    }

    /** A transfer in two steps: read two accounts, then move money between them if neither changed. */
    private ClientOp transferStep(Client cl) {
        if (cl.readVersions == null) {
            String a = accounts.get(rnd.nextInt(ACCOUNTS)), b = accounts.get(rnd.nextInt(ACCOUNTS));
            if (a.equals(b)) b = accounts.get((accounts.indexOf(a) + 1) % ACCOUNTS);
            return new ClientOp.Txn(new TxnRequest(List.of(), List.of(new TxnRequest.TxnOp(TxnRequest.Kind.GET, a, null),
                    new TxnRequest.TxnOp(TxnRequest.Kind.GET, b, null)), List.of(), null));
        }
        List<String> ab = new ArrayList<>(cl.readVersions.keySet());
        String a = ab.get(0), b = ab.get(1);
        int x = 1 + rnd.nextInt(5);
        List<TxnRequest.Condition> conds = List.of(new TxnRequest.Condition(a, cl.readVersions.get(a)), new TxnRequest.Condition(b, cl.readVersions.get(b)));
        List<TxnRequest.TxnOp> then = List.of(new TxnRequest.TxnOp(TxnRequest.Kind.PUT, a, String.valueOf(cl.readBalances.get(a) - x)),
                new TxnRequest.TxnOp(TxnRequest.Kind.PUT, b, String.valueOf(cl.readBalances.get(b) + x)));
        cl.readVersions = null;
        return new ClientOp.Txn(new TxnRequest(conds, then, List.of(), "t" + cl.id + "-" + (cl.n++)));
    }

    private void finish(Pending p, Answer a) {
        p.client.busy = false;
        long ret = now + 1; // the answer travels back after the reply
        if (a.close()) {
            finishUnknown(p);
            return;
        }
        boolean noKey = a.status() == 500 && Errors.NO_KEY.equals(a.body());
        if (p.op instanceof ClientOp.Get g) {
            if (a.status() == 200) history.add(Operation.get(p.client.id, g.key(), new String(a.value(), StandardCharsets.UTF_8), p.call, ret));
            else if (noKey) history.add(Operation.get(p.client.id, g.key(), null, p.call, ret));
        } else if (p.op instanceof ClientOp.Put w) {
            if (a.status() == 201) {
                history.add(w.delete() ? Operation.delete(p.client.id, w.key(), true, p.call, ret)
                        : Operation.put(p.client.id, w.key(), w.value(), p.call, ret));
                acked++;
            } else if (noKey && w.delete()) {
                history.add(Operation.delete(p.client.id, w.key(), false, p.call, ret));
            } else {
                // Refused: it must have had no effect. Its value is unique, so a read that sees it fails the check.
                refused++;
                if (a.status() != 500 && a.status() != 503 && a.status() != 412) throw new AssertionError("a write answered " + a.status());
            }
        } else if (p.op instanceof ClientOp.Txn t && a.status() == 200) {
            txnAnswered(p.client, t.request(), a.body());
        }
    }

    private void txnAnswered(Client cl, TxnRequest req, String body) {
        List<String[]> results = TxnAnswer.parse(body);
        boolean readOnly = req.then().stream().allMatch(o -> o.kind() == TxnRequest.Kind.GET);
        if (readOnly) {
            Map<String, Long> versions = new HashMap<>();
            Map<String, Integer> balances = new HashMap<>();
            int sum = 0;
            for (String[] r : results) {
                if (r[1] == null) return; // an account not there: impossible, but a read is no place to judge it
                versions.put(r[0], Long.parseLong(r[2]));
                balances.put(r[0], Integer.parseInt(r[1]));
                sum += Integer.parseInt(r[1]);
            }
            if (results.size() == ACCOUNTS) {
                audits++;
                if (sum != ACCOUNTS * OPENING_BALANCE) broken.add("an audit at " + now + " saw a total of " + sum + ": " + body);
            } else {
                cl.readVersions = new java.util.LinkedHashMap<>(versions);
                cl.readBalances = balances;
            }
        } else if (body.contains("\"succeeded\":true")) {
            transfers++;
        }
    }

    private void finishUnknown(Pending p) {
        p.client.busy = false;
        unknown++;
        if (p.op instanceof ClientOp.Put w) {
            history.add(w.delete() ? Operation.delete(p.client.id, w.key(), true, p.call, Long.MAX_VALUE)
                    : Operation.put(p.client.id, w.key(), w.value(), p.call, Long.MAX_VALUE));
        }
    }

    /* --- The run --- */

    /** Runs {@code steps} scheduler steps of load and faults, then heals and settles. */
    void run(int steps) {
        for (int i = 0; i < steps; i++) {
            now++;
            for (Client cl : clients) if (rnd.nextInt(4) == 0) clientStep(cl);
            maybeFault();
            if (now % 20 == 0) background();
            drainUntil(now);
        }
        // Heal: every link up, everyone up, no more faults; let phase 2, recovery and moves finish.
        cuts.clear();
        for (Leader l : leaders) l.suspectedUntil.clear();
        for (Follower f : followers) if (!f.up) f.restart();
        for (Leader l : leaders) if (!l.up) restartLeader(l);
        for (int i = 0; i < 60_000 && (activeLeader() == null || busy()); i++) {
            now++;
            if (now % 20 == 0) background();
            if (activeLeader() == null && now % 100 == 0) for (Leader l : leaders) if (clusterRules) takeOffice(l);
            drainUntil(now);
        }
        if (DEBUG) {
            Leader a = activeLeader();
            debug("healed: leader " + (a == null ? null : a.id + " " + describe(a.keeper.latest())) + " busy=" + busy());
            if (a != null && a.coordinator() != null) {
                for (Follower f : followers) {
                    debug("  " + f.member.host() + " up=" + f.up + " identity=" + f.identity + "/" + a.identityOf(f) + " cut=" + cut(a, f) + " reaches=" + a.reaches(f) + " leaderSeesUp=" + a.coordinator().isUp(f.member.id())
                            + " mayEvict=" + a.coordinator().mayEvict(f.member.id()) + " pendingTx=" + a.coordinator().pendingTransactions()
                            + " fview=" + (f.p.view() == null ? null : f.p.view().number()));
                }
            }
        }
    }

    private boolean busy() {
        for (Leader l : leaders) {
            if (l.coordinator() != null && l.coordinator().pendingTransactions() > 0) return true;
            if (l.active && l.keeper != null && (l.keeper.latest().moving() || !l.keeper.latest().settled() || l.keeper.acting() != l.keeper.latest())) return true;
        }
        for (Follower f : followers) {
            Leader a = activeLeader();
            // A wiped disk whose old identity is still a member: healing has not finished until it is evicted and refilled.
            if (a != null && a.keeper != null && f.up && !a.reaches(f) && a.keeper.latest().member(f.member.id()) != null) return true;
            // A follower evicted while it was down learns it at the leader's next check (a real one
            // also by registering again); until then it still holds the keys it had.
            if (!wanted(f)) {
                if (a != null && a.keeper != null && f.up && a.reaches(f)
                        && (f.p.view() == null || f.p.view().number() < a.keeper.durable().number())) return true;
                continue;
            }
            Leader l = activeLeader();
            if (l != null && l.keeper != null && (f.p.view() == null || f.p.view().number() < l.keeper.latest().number())) return true;
        }
        return anyPrepared() || !pending.isEmpty();
    }

    /** A follower the cluster wants back: a member, or one evicted for not answering that may rejoin. */
    private boolean wanted(Follower f) {
        Leader l = activeLeader();
        if (l == null || l.keeper == null) return true;
        return l.keeper.latest().member(f.member.id()) != null;
    }

    boolean anyPrepared() {
        for (Follower f : followers) if (wanted(f) && !f.p.preparedByLeaders().isEmpty()) return true;
        return false;
    }

    private void drainUntil(long t) {
        while (!events.isEmpty() && events.peek().at <= t) {
            Event e = events.poll();
            long saved = now;
            now = Math.max(now, e.at);
            e.action.run();
            now = Math.max(saved, now);
        }
    }

    /** What the real leader and followers do every tick and every check. */
    private void background() {
        for (Leader l : leaders) {
            Coordinator c = l.coordinator();
            if (!l.up || !l.active) continue;
            if (c != null) {
                l.runner.event(k -> k.tick(now));
                l.health();
            }
            for (Follower f : followers) {
                if (!l.reaches(f)) continue;
                Participant.Step s = f.p.observeEpoch(l.epoch);
                if (s.status() != 200) {
                    // The check answered 409: a newer leader has taken office.
                    if (clusterRules) l.stepDown();
                    break;
                }
                f.lastLeaderContact = now;
                f.disk.pending.addAll(s.records());
                if (l.keeper != null) f.disk.pending.addAll(learn(f, l.keeper.durable(), "check from leader " + l.id));
                List<Coordinator.Held> held = new ArrayList<>();
                for (Participant.Prepared p : f.p.preparedByLeaders()) {
                    List<String> ks = new ArrayList<>();
                    for (Write w : p.writes()) ks.add(w.key());
                    held.add(new Coordinator.Held(p.tx(), ks, p.rid()));
                }
                long hv = f.p.highVersion();
                long copied = f.p.copiedRound();
                ViewKeeper k = l.keeper;
                f.persistThen(new Participant.Step(200, "", 0, List.of()), () -> {
                    if (l.keeper != k || k == null || !l.active) return;
                    k.logged(f.member.id(), f.p.view() == null ? 0 : f.p.view().number());
                    if (copied != 0 && copied == k.latest().copyRound()) k.propose(x -> Membership.copied(x, f.member.id(), copied, x.epoch()), ch -> { });
                    l.runKeeper();
                    if (!held.isEmpty()) debug("leader " + l.id + " hears " + f.member.host() + " holds " + held);
                    l.runner.event(q -> {
                        q.observeVersion(hv);
                        if (!held.isEmpty()) q.heldReport(f.member.id(), held, now);
                    });
                });
            }
            if (l.keeper != null && l.active) {
                l.keeper.tick(now, now, new ViewKeeper.Facts() {
                    @Override public boolean isUp(long id) {
                        Follower f = followerOrNull(id);
                        return f != null && l.reaches(f);
                    }

                    @Override public long silentForMillis(long id, long t) {
                        Follower f = followerOrNull(id);
                        return f == null ? Long.MAX_VALUE : l.reaches(f) ? 0 : t - f.downSince;
                    }

                    @Override public boolean mayEvict(long id) {
                        Coordinator co = l.coordinator();
                        return co != null && co.mayEvict(id);
                    }

                    @Override public boolean settledBefore(long viewNumber) {
                        Coordinator co = l.coordinator();
                        return co != null && co.settledBefore(viewNumber);
                    }
                });
                l.runKeeper();
            }
        }
        for (Follower f : followers) {
            if (!f.up) continue;
            if (!f.copying && f.p.roundToCopy() != 0) copy(f, f.p.roundToCopy(), new HashSet<>());
            registrar(f);
        }
    }

    /** A follower learns a view (logged with what it answers). */
    List<LogRecord> learn(Follower f, View v, String how) {
        int before = f.p.preparedByLeaders().size();
        long was = f.p.view() == null ? 0 : f.p.view().number();
        List<LogRecord> out = f.p.learnView(v).records();
        if (DEBUG && f.p.preparedByLeaders().size() < before) {
            debug(f.member.host() + " dropped prepared transactions on learning view " + v.number() + " (had " + was + ") by " + how);
        }
        return out;
    }

    Follower followerOrNull(long id) {
        for (Follower f : followers) if (f.member.id() == id) return f;
        return null;
    }

    /* --- Moving keys: a gainer pages through its sources --- */

    private void copy(Follower f, long round, Set<Long> skip) {
        List<Follower> sources = new ArrayList<>();
        Placement placement = new Placement(f.p.view());
        for (Member m : placement.copySources(f.member.id())) {
            // as Copier does: a source with nothing to send is not asked
            if (!placement.sendsAny(m.id(), f.member.id(), skip)) continue;
            Follower s = followerOrNull(m.id());
            if (s != null) sources.add(s);
        }
        f.copying = true;
        page(f, ++f.copyChain, round, sources, 0, null, skip);
    }

    /** One step of a copy chain; {@code token} identifies the chain (a newer one supersedes it). */
    private void page(Follower f, int token, long round, List<Follower> sources, int at, String after, Set<Long> skip) {
        if (f.copyChain != token) return;
        if (!f.up || f.p.roundToCopy() != round) {
            f.copying = false;
            return;
        }
        if (at == sources.size()) {
            debug(f.member.host() + " copied round " + round);
            if (!new Placement(f.p.view()).sourcesCover(f.member.id(), Set.of())) {
                broken.add(f.member.host() + " finished copy round " + round + " with keys that have no source at all");
            }
            f.persistThen(f.p.copied(round), () -> { if (f.copyChain == token) f.copying = false; });
            return;
        }
        Follower s = sources.get(at);
        int steps = f.copySteps;
        sendBetweenFollowers(() -> {
            Participant.CopyPage cp = s.up ? s.p.copyPage(round, f.member.id(), after, 3, 1 << 20, skip, f.p.view() == null ? 0 : f.p.view().number()) : null;
            if (cp == null) {
                // The source is down or does not know the round: skip it if the others cover its keys
                // (else wait for it) and start over.
                if (!s.up && f.p.view() != null) { // (the gainer may have lost its disk since the chain began)
                    Set<Long> without = new HashSet<>(skip);
                    without.add(s.member.id());
                    if (new Placement(f.p.view()).sourcesCover(f.member.id(), without)) skip.add(s.member.id());
                }
                at(30, () -> {
                    if (f.copyChain != token) return;
                    f.copying = false;
                    if (f.up && f.p.roundToCopy() == round) copy(f, round, skip);
                });
                return;
            }
            sendBetweenFollowers(() -> {
                if (f.copyChain != token || !f.up) return;
                debug(f.member.host() + " applies copy page from " + s.member.host() + " " + cp.entries().size() + " entries round " + round);
                f.persistThen(f.p.applyCopy(cp.entries()), () -> {
                    f.copySteps++;
                    if (cp.next() == null) page(f, token, round, sources, at + 1, null, skip);
                    else page(f, token, round, sources, at, cp.next(), skip);
                });
            });
        });
        // A lost message (or a crash) must not stall the copy for good: if this chain made no step
        // for a while, it is abandoned and the next check starts a new one.
        at(500, () -> {
            if (f.copyChain == token && f.copySteps == steps) {
                f.copyChain++;
                f.copying = false;
            }
        });
    }

    /* --- Membership faults and the followers' registrar --- */

    /**
     * The follower's registrar (as {@code Registrar}): it registers after a restart and after an
     * eviction for not answering, and keeps asking (a refusal — no room, or its old identity still
     * a member — is retried) until the leader's view names it with its identity; evicted by a
     * drain or an admin, it stays out until it restarts.
     */
    private void registrar(Follower f) {
        String st = f.p.state();
        if (!st.equals(f.lastState)) {
            f.lastState = st;
            if (st.equals("evicted")) {
                View v = f.p.view();
                var e = v == null ? null : v.evictedAt(f.member.host(), f.member.port());
                f.registering = e == null || e.rejoin();
            }
        }
        Leader l = activeLeader();
        if (!f.registering || l == null || l.keeper == null || cut(l, f)) return;
        ViewMember m = l.keeper.latest().member(f.member.id());
        if (m != null && f.identity.equals(m.identity())) {
            f.registering = false;
            return;
        }
        l.keeper.propose(x -> Membership.register(x, f.member.host(), f.member.port(), f.identity, x.epoch(), now, unreached(l)), c -> { });
        l.runKeeper();
    }

    /** Members the leader does not reach now (down, cut off, or a wiped disk under an old identity). */
    private Set<Long> unreached(Leader l) {
        Set<Long> out = new HashSet<>();
        for (Follower f : followers) if (!l.reaches(f)) out.add(f.member.id());
        return out;
    }

    private void membershipFault() {
        Leader l = activeLeader();
        if (l == null || l.keeper == null) return;
        View v = l.keeper.latest();
        int dice = rnd.nextInt(4);
        if (dice == 0 && followers.size() < MAX_FOLLOWERS) {
            Follower f = new Follower(followers.size());
            followers.add(f);
            joins++;
            l.keeper.propose(x -> Membership.capacity(x, x.memberCount() + 1, x.epoch()), c -> { });
            l.keeper.propose(x -> Membership.register(x, f.member.host(), f.member.port(), f.identity, x.epoch(), now, unreached(l)), c -> { });
        } else if (dice == 1 && v.memberCount() > redundancy + 1) {
            ViewMember m = v.members().get(rnd.nextInt(v.members().size()));
            drains++;
            l.keeper.propose(x -> Membership.drain(x, m.member().host(), m.member().port(), x.epoch(), unreached(l), clusterRules), c -> { });
        } else if (dice == 2) {
            // A wiped disk: the follower dies and comes back at once with another identity. Only
            // while every key keeps a current replica with its disk (redundancy 2 survives one lost
            // disk at a time, not two before the first is refilled).
            Follower f = followers.get(rnd.nextInt(followers.size()));
            if (!f.up) return;
            // Under the view the leader acts on as well as its latest: in cluster mode a view is
            // acted on once a majority logged it, and a standby that takes office before then
            // starts from the one acted on, so a member current only in the latest one is not
            // current for it (seed 10200000001177: a refilled member's "current" was in a view only
            // the crashed leader had logged, and the other replica's disk was then wiped).
            if (!wipeLeavesACurrentReplica(v, f) || !wipeLeavesACurrentReplica(l.keeper.acting(), f)) return;
            Set<Long> lost = lostDisks(v);
            // Nor one whose disk alone knows a commit another replica still holds prepared: with a
            // leader failover, that is two failures (PROTOCOL.md, "Standby leader": the limit).
            for (Follower o : followers) {
                for (Participant.Prepared pr : o.p.preparedByLeaders()) {
                    if (o != f && f.p.outcome(pr.tx()) == Participant.Outcome.COMMITTED) return;
                }
            }
            // Nor more than a minority of the members' disks at once: a view needs a majority to log it.
            if (clusterRules && 2 * (lost.size() + 1) >= v.members().size()) return;
            f.crash();
            f.wipe();
            at(20 + rnd.nextInt(100), () -> { if (!f.up) f.restart(); });
        } else {
            // A crash long enough to be evicted for.
            Follower f = followers.get(rnd.nextInt(followers.size()));
            if (!f.up) return;
            f.crash();
            evictions++;
            at(HEAL_AFTER + 100 + rnd.nextInt(400), () -> { if (!f.up) f.restart(); });
        }
        l.runKeeper();
    }

    /** Members of {@code v} whose disk was wiped since (another identity at the address). */
    private Set<Long> lostDisks(View v) {
        Set<Long> lost = new HashSet<>();
        for (Follower o : followers) {
            ViewMember m = v.member(o.member.id());
            if (m != null && !o.identity.equals(m.identity())) lost.add(o.member.id());
        }
        return lost;
    }

    /** Every key keeps a current replica with its disk under {@code v} if f's disk is lost too, also once its move completes. */
    private boolean wipeLeavesACurrentReplica(View v, Follower f) {
        if (v == null) return false;
        Set<Long> lost = lostDisks(v);
        if (!new Placement(v).survives(f.member.id(), lost)) return false;
        // Also once the move under way completes (the old replicas then drop what moved).
        return !v.moving() || new Placement(Membership.completed(v, v.epoch(), now)).survives(f.member.id(), lost);
    }

    private void maybeFault() {
        if (rnd.nextDouble() < faults.crashPerStep()) crashSomething();
        if (rnd.nextDouble() < faults.cutPerStep()) {
            Leader l = leaders.get(rnd.nextInt(leaders.size()));
            Follower f = followers.get(rnd.nextInt(followers.size()));
            String link = l.id + "-" + f.member.id();
            cuts.add(link);
            at(20 + rnd.nextInt(400), () -> cuts.remove(link));
        }
        if (rnd.nextDouble() < faults.suspectPerStep()) {
            Leader l = leaders.get(rnd.nextInt(leaders.size()));
            Follower f = followers.get(rnd.nextInt(followers.size()));
            l.suspectedUntil.put(f.member.id(), now + 20 + rnd.nextInt(200)); // false suspicion of a live follower
        }
        if (faults.twoLeaders() && rnd.nextDouble() < faults.cutPerStep() / 2) {
            Leader standby = null;
            for (Leader l : leaders) if (l.up && !l.active) standby = l;
            if (standby != null) takeOffice(standby);
        }
        if (rnd.nextDouble() < faults.membershipPerStep()) membershipFault();
    }

    private void crashSomething() {
        int who = rnd.nextInt(followers.size() + leaders.size());
        if (who >= followers.size()) {
            Leader l = leaders.get(who - followers.size());
            if (!l.up) return;
            l.crash();
            at(50 + rnd.nextInt(200), () -> restartLeader(l));
        } else {
            Follower f = followers.get(who);
            if (!f.up) return;
            f.crash();
            at(50 + rnd.nextInt(150), () -> { if (!f.up) f.restart(); });
        }
    }

    private void restartLeader(Leader l) {
        if (l.up) return;
        l.up = true;
        if (!clusterRules) l.startAlone();
        else {
            l.epoch = l.replay().epoch();
            takeOffice(l);
        }
    }

    static final boolean DEBUG = System.getProperty("kvstore.sim.debug") != null;

    String describe(View v) {
        StringBuilder sb = new StringBuilder("view " + v.number() + " e" + v.epoch() + " base=");
        for (Member m : v.base()) sb.append(m.host().substring(7)).append(v.gone().contains(m.id()) ? "(gone)" : "").append(',');
        sb.append(" members=");
        for (ViewMember m : v.members()) sb.append(m.member().host().substring(7)).append('/').append(m.identity()).append('@').append(m.since())
                .append(m.draining() ? "(draining)" : "").append(v.current().contains(m.member().id()) ? "(current)" : "").append(',');
        sb.append(" moving=").append(v.moving()).append(" copyRound=").append(v.copyRound()).append(" settled=").append(v.settled());
        for (Holders h : v.earlier()) {
            sb.append(" earlier[");
            for (Member m : h.ring()) sb.append(m.host().substring(7)).append(h.holders().contains(m.id()) ? "*" : "").append(',');
            sb.append(']');
        }
        String watch = System.getProperty("kvstore.sim.watch");
        if (watch != null) {
            Placement p = new Placement(v);
            sb.append(" ").append(watch).append(":");
            for (Placement.Replica r : p.writeSet(watch)) sb.append(r.member().host().substring(7)).append(r.current() ? "(c)" : "(b)").append(',');
            Member src = p.sourceOf(Hash.strhash64(watch), Set.of());
            sb.append(" src=").append(src == null ? null : src.host().substring(7));
        }
        return sb.toString();
    }

    void debug(String s) {
        if (DEBUG) System.out.println("DEBUG t=" + now + " " + s);
    }

    /* --- Checks --- */

    /**
     * After healing: every replica of every key agrees, nothing is left prepared, and (once the
     * view is settled) each member holds exactly the keys its ring gives it; with transfers, the
     * total is the opening total.
     */
    String checkReplicas() {
        Leader l = activeLeader();
        if (l == null || l.keeper == null) return "no active leader after healing";
        View v = l.keeper.latest();
        Placement p = new Placement(v);
        List<String> all = new ArrayList<>(keys);
        if (faults.txns()) all.addAll(accounts);
        for (String key : all) {
            String first = null, firstHost = null;
            long firstVersion = 0;
            boolean seen = false;
            for (Member m : p.readSet(key)) {
                Follower f = follower(m.id());
                byte[] val = f.p.value(key);
                String s = val == null ? null : new String(val, StandardCharsets.UTF_8);
                long version = val == null ? 0 : f.p.heldVersion(key);
                if (seen && !Objects.equals(first, s)) {
                    return "replicas of " + key + " disagree: " + firstHost + " has " + first + ", " + m.host() + " has " + s + " (view " + v.number() + ")";
                }
                if (seen && version != firstVersion) {
                    return "replicas of " + key + " hold " + s + " under different versions: " + firstHost + " v" + firstVersion + ", "
                            + m.host() + " v" + version + " (view " + v.number() + ")";
                }
                first = s;
                firstHost = m.host();
                firstVersion = version;
                seen = true;
            }
            if (!seen && v.memberCount() > 0) return "no current replica of " + key;
        }
        if (v.settled() && !v.moving()) {
            for (Follower f : followers) {
                ViewMember me = v.member(f.member.id());
                for (String key : all) {
                    boolean should = me != null && p.holds(f.member.id(), Hash.strhash64(key));
                    boolean has = f.p.value(key) != null;
                    if (has && !should) return f.member.host() + " still holds " + key + " it does not own (view " + v.number() + ")";
                }
            }
        }
        if (anyPrepared()) {
            StringBuilder sb = new StringBuilder("a transaction is still prepared after healing (now " + now + ")");
            for (Follower f : followers) {
                for (Participant.Prepared pr : f.p.preparedByLeaders()) {
                    sb.append("; ").append(f.member.host()).append(" holds ").append(pr.tx()).append(" on ").append(pr.firstKey())
                            .append(" (follower epoch ").append(f.p.epoch()).append(")");
                }
            }
            return sb.toString();
        }
        if (!broken.isEmpty()) return broken.get(0);
        if (faults.txns()) {
            int sum = 0;
            for (String a : accounts) {
                byte[] val = follower(p.readSet(a).get(0).id()).p.value(a);
                sum += val == null ? 0 : Integer.parseInt(new String(val, StandardCharsets.UTF_8));
            }
            if (sum != ACCOUNTS * OPENING_BALANCE) return "the total is " + sum + " after healing";
        }
        return null;
    }
}
